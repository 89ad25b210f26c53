// The FastCGI programs' flags: parse_options, usage_text (--help) and options_argv.
#include "options.hpp"

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "config_load.hpp"
#include "listen.hpp"
#include "serve.hpp"
#include "text.hpp"
#include "url.hpp"

namespace oauthfcgi {
namespace {

Error option_error(std::string reason) {
  return make_error(ErrorKind::config, std::move(reason) + " (see --help)");
}

Result<int> parse_count(const std::string& flag, const std::string& t, int max) {
  auto n = parse_uint(t, static_cast<unsigned long>(max));
  if (!n || *n < 1)
    return option_error("--" + flag + " wants a number from 1 to " + std::to_string(max) + ", not \"" + t +
                        "\"");
  return static_cast<int>(*n);
}

// A flag that takes a value: --config, --threads, --max-threads, --listen, --socket-group,
// --socket-mode.
Result<void> set_value(Options& o, std::optional<std::string>& config, const std::string& name,
                       const std::string& v) {
  if (v.empty()) return option_error("--" + name + " needs a value");
  if (name == "config") {
    config = v;
  } else if (name == "listen") {
    if (auto l = parse_listen(v); !l) return option_error(l.error().reason);
    o.listen = v;
  } else if (name == "socket-group") {
    auto g = parse_socket_group(v);
    if (!g) return option_error(g.error().reason);
    o.socket_group = *g;
  } else if (name == "socket-mode") {
    auto m = parse_socket_mode(v);
    if (!m) return option_error(m.error().reason);
    o.socket_mode = *m;
  } else if (name == "max-threads") {
    auto n = parse_count(name, v, kMaxPoolThreads);
    if (!n) return n.error();
    o.max_threads = *n;
  } else {
    auto n = parse_count(name, v, kMaxThreads);
    if (!n) return n.error();
    o.threads = *n;
  }
  return {};
}

bool takes_value(const std::string& name) {
  return name == "config" || name == "threads" || name == "max-threads" || name == "listen" ||
         name == "socket-group" || name == "socket-mode";
}

} // namespace

FlagWord split_flag(std::string_view word) {
  if (word.rfind("--", 0) == 0) {
    size_t eq = word.find('=');
    if (eq == std::string_view::npos) return {std::string(word), std::nullopt};
    return {std::string(word.substr(0, eq)), std::string(word.substr(eq + 1))};
  }
  if (word.size() > 2 && word[0] == '-') return {std::string(word.substr(0, 2)), std::string(word.substr(2))};
  return {std::string(word), std::nullopt};
}

std::optional<std::string> flag_value(const FlagWord& flag, int& i, int argc, const char* const* argv) {
  if (flag.attached) return flag.attached;
  if (i + 1 >= argc || !argv[i + 1]) return std::nullopt;
  return std::string(argv[++i]);
}

Result<Options> parse_options(int argc, const char* const* argv) {
  Options o;
  std::optional<std::string> config;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i] ? argv[i] : "";
    if (arg == "-h") arg = "--help";
    if (arg.size() < 3 || arg.substr(0, 2) != "--")
      return option_error("unexpected argument \"" + std::string(arg) + "\"");
    FlagWord flag = split_flag(arg);
    std::string name = flag.name.substr(2);
    if (takes_value(name)) {
      auto v = flag_value(flag, i, argc, argv);
      if (!v) return option_error("--" + name + " needs a value");
      if (auto set = set_value(o, config, name, *v); !set) return set.error();
    } else if (name == "check-config" || name == "version" || name == "help") {
      if (flag.attached) return option_error("--" + name + " takes no value");
      (name == "help" ? o.help : name == "version" ? o.version : o.check_config) = true;
    } else {
      return option_error("unknown option --" + name);
    }
  }
  // An inherited socket already has its owner and mode (spawn-fcgi -G/-M, SocketGroup=).
  if ((o.socket_group || o.socket_mode) && o.listen.rfind("unix:", 0) != 0)
    return option_error(std::string(o.socket_group ? "--socket-group" : "--socket-mode") +
                        " applies only to --listen unix:PATH");
  o.config_path = config ? *config : default_config_path();
  return o;
}

// Under CGI, Apache turns a query without '=' (the old ISINDEX form) into
// command-line words: "?--listen+0.0.0.0:9000" would arrive as two arguments. Those
// trailing words come from the browser, so they are dropped, never read as options.
std::vector<const char*> options_argv(int argc, char** argv) {
  std::vector<const char*> out(argv, argv + argc);
  const char* gateway = std::getenv("GATEWAY_INTERFACE");
  const char* query = std::getenv("QUERY_STRING");
  if (!gateway || !query || !*query || std::strchr(query, '=')) return out;
  std::vector<std::string> words;
  std::string_view q = query;
  while (true) {
    size_t plus = q.find('+');
    words.push_back(url_decode(q.substr(0, plus), false));
    if (plus == std::string_view::npos) break;
    q.remove_prefix(plus + 1);
  }
  if (words.size() >= out.size()) return out;
  size_t first = out.size() - words.size();
  for (size_t i = 0; i < words.size(); ++i)
    if (words[i] != out[first + i]) return out;
  out.resize(first);
  return out;
}

// Declarative text: one string, the program's name and socket filled in.
std::string usage_text(const Program& p) {
  const std::string& n = p.name;
  // The shipped nginx snippet names sockets without the "oauth-" prefix: connect.sock, ...
  std::string short_name = n.rfind("oauth-", 0) == 0 ? n.substr(6) : n;
  return n + " " + kVersion + ": " + p.summary +
         "\n"
         "\n"
         "Usage: " +
         n + " [--config FILE] [--threads N] [--max-threads N]\n" + std::string(n.size() + 8, ' ') +
         "[--listen ADDRESS] [--socket-group GROUP] [--socket-mode MODE]\n       " + n +
         " --check-config [--config FILE]\n       " + n +
         " --version | --help\n"
         "\n"
         "Options:\n"
         "  --config FILE         the config file (else $OAUTH_FCGI_CONFIG, else "
         "/etc/oauth-fcgi/oauth-fcgi.conf)\n"
         "  --threads N           worker threads at start, 1 to 256 (else [server] threads, default 8)\n"
         "  --max-threads N       the most worker threads the pool grows to while every one is\n"
         "                        busy, 1 to 4096 (else [server] max_threads, default 512)\n"
         "  --listen ADDRESS      serve FastCGI on unix:/path.sock, HOST:PORT or [IPv6]:PORT\n"
         "  --socket-group GROUP  with --listen unix: the socket's group, a name or a number:\n"
         "                        the web server's (www-data on Debian); default the program's\n"
         "  --socket-mode MODE    with --listen unix: the socket's mode, octal (default 0660)\n"
         "  --check-config        check the config file and whether Redis answers; exit 0 or 1\n"
         "  --version             print the version and exit\n"
         "  --help                print this help and exit\n"
         "\n"
         "Run modes, chosen at start:\n"
         "  1. --listen ADDRESS: its own FastCGI server\n"
         "  2. LISTEN_FDS=1 and LISTEN_PID (systemd socket activation): FastCGI on fd 3\n"
         "  3. a listening socket as fd 0 (spawn-fcgi, mod_fcgid, systemd StandardInput=socket)\n"
         "  4. otherwise plain CGI (mod_cgid, fcgiwrap): one request, then exit\n"
         "SIGTERM or SIGINT: requests in progress finish, then the process exits 0.\n"
         "\n"
         "Environment:\n"
         "  OAUTH_FCGI_CONFIG  the config file when --config is not given\n"
         "\n"
         "Example:\n"
         "  " +
         n + " --config /etc/oauth-fcgi/oauth-fcgi.conf --listen unix:/run/oauth-fcgi/" + short_name +
         ".sock\n"
         "  nginx: fastcgi_pass unix:/run/oauth-fcgi/" +
         short_name +
         ".sock;\n"
         "  (conf/nginx/oauth-fcgi.conf, included in nginx's server {}, has the routes of all five "
         "programs)\n";
}

} // namespace oauthfcgi
