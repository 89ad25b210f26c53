#include "serve.hpp"

#include <fastcgi.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "listen.hpp"

#ifndef OAUTHFCGI_VERSION
#define OAUTHFCGI_VERSION "0.0.0"
#endif

extern char** environ;

namespace oauthfcgi {

const char* const kVersion = OAUTHFCGI_VERSION;

namespace {

constexpr int kMaxThreads = 256;
// Unread request body drained after the answer so a kept connection stays in step;
// past this much we close the connection instead.
constexpr size_t kMaxDrainBytes = size_t{4} << 20;

Error option_error(std::string reason) {
  return make_error(ErrorKind::config, std::move(reason) + " (see --help)");
}

std::string errno_text(int e) {
  return std::strerror(e);
}

enum class Mode { own_socket, systemd, inherited, cgi };

const char* mode_name(Mode m) {
  switch (m) {
  case Mode::own_socket: return "listen";
  case Mode::systemd: return "systemd";
  case Mode::inherited: return "inherited";
  case Mode::cgi: return "cgi";
  }
  return "?";
}

// The run mode of DESIGN.md, in its order of precedence.
Mode choose_mode(const Options& opts) {
  if (!opts.listen.empty()) return Mode::own_socket;
  const char* fds = std::getenv("LISTEN_FDS");
  const char* pid = std::getenv("LISTEN_PID");
  if (fds && pid && std::strtol(fds, nullptr, 10) >= 1 && std::strtol(pid, nullptr, 10) == ::getpid()) {
    // Ours, not our children's.
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDNAMES");
    return Mode::systemd;
  }
  FCGX_Init();
  return FCGX_IsCGI() ? Mode::cgi : Mode::inherited;
}

std::unique_ptr<Store> make_store(const Services& services, const Config& config) {
  return services.make_store ? services.make_store(config) : default_services().make_store(config);
}

std::unique_ptr<HttpClient> make_http(const Services& services, const Config& config) {
  return services.make_http ? services.make_http(config) : default_services().make_http(config);
}

std::string retry_href(const Program& program, const Config& config) {
  return program.error_style == ErrorStyle::html ? login_path(config) : std::string();
}

// Where Redis is, for messages: never the url itself, which may hold a password.
std::string redis_where(const RedisConfig& r) {
  return r.unix_socket ? r.host : r.host + ":" + std::to_string(r.port);
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void print_problems(const std::vector<ConfigProblem>& problems) {
  for (const auto& p : problems)
    (void)std::fprintf(stderr, "%s\n", p.to_string().c_str());
}

int check_config(const Program& program, const Options& opts, const ConfigLoad& load,
                 const Services& services) {
  print_problems(load.problems);
  if (!load.ok()) return 1;
  std::printf("%s: %s: ok\n", program.name.c_str(), opts.config_path.c_str());
  (void)std::fflush(stdout);
  // Redis down is not a config error (it may come up later), but worth saying now.
  std::string failure;
  try {
    auto store = make_store(services, load.config);
    if (!store) {
      failure = "no store";
    } else if (auto ping = store->ping(); !ping) {
      failure = ping.error().reason;
    }
  } catch (const std::exception& e) {
    failure = e.what();
  }
  // Exit 0 all the same: the config is right, and Redis may live elsewhere or start later.
  if (!failure.empty())
    (void)std::fprintf(
        stderr,
        "%s: WARNING: Redis at %s does not answer: %s (start it, or correct [redis] url in %s; "
        "until it answers, requests get 503)\n",
        program.name.c_str(), redis_where(load.config.redis).c_str(), failure.c_str(),
        opts.config_path.c_str());
  return 0;
}

struct Server {
  Server(const Program& p, const Config& c, const Keys& k, const Services& s, const Log& l, int fd)
      : program(p), config(c), keys(k), services(s), log(l), listen_fd(fd) {}
  const Program& program;
  const Config& config;
  const Keys& keys;
  const Services& services;
  const Log& log;
  int listen_fd;
  std::atomic<bool> stopping{false};
  std::atomic<bool> failed{false};
  std::atomic<int> alive{0};
  std::mutex mu;
  std::condition_variable idle;
  int busy = 0; // requests in flight, under mu
};

// Counts a request in flight for the whole of its handling.
class BusyGuard {
public:
  explicit BusyGuard(Server& s) : s_(s) {
    std::lock_guard<std::mutex> lock(s_.mu);
    ++s_.busy;
  }
  ~BusyGuard() {
    std::lock_guard<std::mutex> lock(s_.mu);
    if (--s_.busy == 0) s_.idle.notify_all();
  }
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;

private:
  Server& s_;
};

std::string read_stream(FCGX_Stream* in, size_t n) {
  std::string body(n, '\0');
  size_t got = 0;
  while (got < n) {
    int want = static_cast<int>(std::min<size_t>(n - got, INT_MAX));
    int r = FCGX_GetStr(&body[got], want, in);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  body.resize(got);
  return body;
}

// Reads what is left of STDIN, so the next request on a kept connection starts at
// a record boundary. False when there was too much to drain.
bool drain_stream(FCGX_Stream* in) {
  char buf[8192];
  size_t total = 0;
  while (total <= kMaxDrainBytes) {
    int r = FCGX_GetStr(buf, sizeof buf, in);
    if (r <= 0) return FCGX_GetError(in) == 0;
    total += static_cast<size_t>(r);
  }
  return false;
}

// Serves one request. True when all of its input was read, so that closing the
// connection can't reset it under an answer the web server has yet to read.
bool serve_one(Server& s, FCGX_Request& req, Context& ctx) {
  Request::Env env = Request::Env::from_envp(req.envp);
  std::string body;
  // The body is read only once its size is known to be acceptable.
  bool body_read = check_limits(env, s.config.limits).ok();
  if (body_read) body = read_stream(req.in, *content_length(env));
  Response response = handle_request(s.program, Request(std::move(env), std::move(body)), ctx);
  std::string out = response.serialize();
  // The answer normally leaves at FCGX_FClose, with the end of the stream and
  // END_REQUEST, in one write: nginx then has it whole (an auth_request closes the
  // connection after the headers, and a second write met EPIPE). Only when an unread
  // body is to be drained first does the answer go now.
  bool sent = FCGX_PutStr(out.data(), static_cast<int>(out.size()), req.out) >= 0;
  if (sent && !body_read) sent = FCGX_FFlush(req.out) >= 0;
  if (!sent) s.log.debug("client_gone");
  // A FastCGI authorizer (Apache mod_authnz_fcgi) is sent no STDIN stream at all:
  // draining it would hold back END_REQUEST until the web server gives up.
  if (req.role == FCGI_AUTHORIZER) {
    req.keepConnection = 0;
    return true;
  }
  if (drain_stream(req.in)) return true;
  req.keepConnection = 0;
  return false;
}

void worker(Server& s) {
  std::unique_ptr<Store> store;
  std::unique_ptr<HttpClient> http;
  try {
    store = make_store(s.services, s.config);
    http = make_http(s.services, s.config);
    if (!store || !http) s.log.error("worker_failed", {{"error", "no store or HTTP client"}});
  } catch (const std::exception& e) {
    s.log.error("worker_failed", {{"error", e.what()}});
  }
  FCGX_Request req;
  if (store && http && FCGX_InitRequest(&req, s.listen_fd, 0) == 0) {
    Context ctx{s.config, s.keys, *store, *http, s.log};
    while (!s.stopping.load()) {
      int rc = FCGX_Accept_r(&req);
      if (rc < 0) {
        if (s.stopping.load()) break;
        int e = -rc;
        if (e == EBADF || e == ENOTSOCK || e == EINVAL) {
          s.log.error("accept_failed", {{"error", errno_text(e)}});
          break;
        }
        // EMFILE and friends: pass, don't spin.
        s.log.warn("accept_failed", {{"error", e > 0 ? errno_text(e) : "protocol error"}});
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      bool input_read = false;
      {
        BusyGuard busy(s);
        try {
          input_read = serve_one(s, req, ctx);
        } catch (const std::exception& e) {
          s.log.error("request_failed", {{"error", e.what()}});
        } catch (...) {
          s.log.error("request_failed");
        }
        // Closing both output streams sends END_REQUEST: the answer is complete. What
        // Finish_r adds (libfcgi lingers up to 2 s on closing a connection) need not
        // hold up a shutdown, so it runs outside the busy count.
        FCGX_FClose(req.err);
        FCGX_FClose(req.out);
      }
      // Stopping: have the web server open its next connection to a live process.
      if (s.stopping.load()) req.keepConnection = 0;
      // libfcgi closes a connection by shutting down its side and waiting (up to 2 s)
      // for the web server to close: a second wake-up and three system calls per
      // request. That wait only matters when unread input could turn the close into
      // a reset; with all input read, a detached request is closed at once.
      if (input_read && !req.keepConnection) FCGX_Detach(&req);
      FCGX_Finish_r(&req);
    }
    FCGX_Free(&req, 1);
  }
  if (--s.alive == 0 && !s.stopping.load()) {
    // Nobody left to serve: wake main (it waits for signals) to exit with an error.
    s.failed = true;
    ::kill(::getpid(), SIGTERM);
  }
}

// Modes 1-3: N workers on the listening socket until SIGTERM/SIGINT.
int serve_fastcgi(Server& s, int threads, Mode mode, const OwnedSocketFile& owned) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  // Blocked before the threads exist, so they inherit the mask and only sigwait sees them.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  FCGX_Init();

  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    try {
      ++s.alive;
      workers.emplace_back(worker, std::ref(s));
    } catch (const std::system_error& e) {
      --s.alive;
      s.log.error("thread_failed", {{"error", e.what()}});
      break;
    }
  }
  if (workers.empty()) {
    owned.remove();
    return 1;
  }
  s.log.info("started",
             {{"mode", mode_name(mode)}, {"threads", std::to_string(workers.size())}, {"version", kVersion}});

  int sig = 0;
  while (true) {
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) break;
    s.log.info("sighup_ignored", {{"hint", "restart the process to reload the config"}});
  }
  s.stopping = true;
  FCGX_ShutdownPending();
  if (!s.failed.load()) s.log.info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  // Threads blocked in accept() only wake when the socket is shut down; closing it is
  // not enough. An inherited socket is shared (systemd, spawn-fcgi -F siblings), so we
  // leave it alone: its idle workers simply die with the process.
  if (mode == Mode::own_socket) ::shutdown(s.listen_fd, SHUT_RDWR);

  // In-flight requests finish; a request cannot outlast the provider timeout by much.
  auto grace = std::chrono::milliseconds(s.config.http.timeout_ms) + std::chrono::seconds(5);
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.idle.wait_for(lock, grace, [&] { return s.busy == 0; }))
      s.log.warn("stop_timeout", {{"in_flight", std::to_string(s.busy)}});
  }
  owned.remove();
  s.log.info("stopped");
  // Workers blocked reading the next request of a kept-alive connection never wake
  // up, so they are not joined: the process ends here.
  for (auto& t : workers)
    t.detach();
  (void)std::fflush(stdout);
  (void)std::fflush(stderr);
  std::_Exit(s.failed.load() ? 1 : 0);
}

// Mode 4: one request from the environment and stdin, the answer on stdout.
int serve_cgi(const Program& program, const Config& config, const Keys& keys, const Services& services,
              const Log& log) {
  Request::Env env = Request::Env::from_envp(environ);
  std::string body;
  if (check_limits(env, config.limits).ok()) {
    size_t n = *content_length(env);
    body.resize(n);
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::read(STDIN_FILENO, &body[got], n - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    body.resize(got);
  }
  Request request(std::move(env), std::move(body));
  Response response;
  try {
    auto store = make_store(services, config);
    auto http = make_http(services, config);
    if (!store || !http) throw std::runtime_error("no store or HTTP client");
    Context ctx{config, keys, *store, *http, log};
    response = handle_request(program, request, ctx);
  } catch (const std::exception& e) {
    log.error("request_failed", {{"error", e.what()}});
    response = error_response({ErrorKind::internal, "The server could not handle the request."},
                              program.error_style, retry_href(program, config));
  }
  write_all(STDOUT_FILENO, response.serialize());
  return 0;
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

} // namespace

Result<Options> parse_options(int argc, const char* const* argv) {
  Options o;
  std::optional<std::string> config;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i] ? argv[i] : "";
    if (arg == "-h") arg = "--help";
    if (arg.size() < 3 || arg.substr(0, 2) != "--")
      return option_error("unexpected argument \"" + std::string(arg) + "\"");
    size_t eq = arg.find('=');
    std::string name(arg.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2));
    std::optional<std::string> inline_value;
    if (eq != std::string_view::npos) inline_value = std::string(arg.substr(eq + 1));
    auto value = [&]() -> Result<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc || !argv[i + 1]) return option_error("--" + name + " needs a value");
      return std::string(argv[++i]);
    };
    if (name == "config" || name == "threads" || name == "listen" || name == "socket-group" ||
        name == "socket-mode") {
      auto v = value();
      if (!v) return v.error();
      if (v->empty()) return option_error("--" + name + " needs a value");
      if (name == "config") {
        config = *v;
      } else if (name == "listen") {
        if (auto l = parse_listen(*v); !l) return option_error(l.error().reason);
        o.listen = *v;
      } else if (name == "socket-group") {
        auto g = parse_socket_group(*v);
        if (!g) return option_error(g.error().reason);
        o.socket_group = *g;
      } else if (name == "socket-mode") {
        auto m = parse_socket_mode(*v);
        if (!m) return option_error(m.error().reason);
        o.socket_mode = *m;
      } else {
        const std::string& t = *v;
        bool digits = t.size() <= 3 && t.find_first_not_of("0123456789") == std::string::npos;
        int n = digits ? std::atoi(t.c_str()) : 0;
        if (n < 1 || n > kMaxThreads)
          return option_error("--threads wants a number from 1 to " + std::to_string(kMaxThreads) +
                              ", not \"" + t + "\"");
        o.threads = n;
      }
    } else if (name == "check-config" || name == "version" || name == "help") {
      if (inline_value) return option_error("--" + name + " takes no value");
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

std::string usage_text(const Program& p) {
  const std::string& n = p.name;
  // The shipped nginx snippet names sockets without the "oauth-" prefix: connect.sock, ...
  std::string short_name = n.rfind("oauth-", 0) == 0 ? n.substr(6) : n;
  return n + " " + kVersion + ": " + p.summary +
         "\n"
         "\n"
         "Usage: " +
         n + " [--config FILE] [--threads N] [--listen ADDRESS]\n" + std::string(n.size() + 8, ' ') +
         "[--socket-group GROUP] [--socket-mode MODE]\n       " + n +
         " --check-config [--config FILE]\n       " + n +
         " --version | --help\n"
         "\n"
         "Options:\n"
         "  --config FILE         the config file (else $OAUTH_FCGI_CONFIG, else "
         "/etc/oauth-fcgi/oauth-fcgi.conf)\n"
         "  --threads N           worker threads, 1 to 256 (else [server] threads, default 8)\n"
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

Services default_services() {
  Services s;
  s.make_store = [](const Config& c) -> std::unique_ptr<Store> {
    return std::make_unique<RedisStore>(c.redis);
  };
  s.make_http = [](const Config& c) -> std::unique_ptr<HttpClient> {
    // GitHub refuses API calls without a User-Agent; name ourselves and the version.
    return std::make_unique<CurlHttpClient>(c.http, std::string("oauth-fcgi/") + kVersion);
  };
  return s;
}

std::string login_path(const Config& config) {
  return config.server.route_prefix + "/connect";
}

Response handle_request(const Program& program, const Request& request, Context& context) {
  try {
    auto start = std::chrono::steady_clock::now();
    Log log = context.log.request_id().empty() ? context.log.with_request_id(new_request_id()) : context.log;
    Context ctx{context.config, context.keys, context.store, context.http, log};
    std::string retry = retry_href(program, ctx.config);
    Response response;
    std::string refused;
    if (auto limits = check_limits(request.env(), ctx.config.limits); !limits) {
      refused = limits.error().reason;
      response = error_response(limits.error(), program.error_style, retry);
    } else {
      try {
        if (!program.handler) throw std::logic_error("the program has no handler");
        response = program.handler(request, ctx);
        if (response.status < 100 || response.status > 599)
          throw std::logic_error("the handler answered status " + std::to_string(response.status));
      } catch (const std::exception& e) {
        log.error("handler_failed", {{"error", e.what()}});
        response = error_response({ErrorKind::internal, "The server could not handle the request."},
                                  program.error_style, retry);
      } catch (...) {
        log.error("handler_failed", {{"error", "unknown exception"}});
        response = error_response({ErrorKind::internal, "The server could not handle the request."},
                                  program.error_style, retry);
      }
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    // The program name and request id are on every line already; no query or cookie here.
    LogFields fields{{"method", request.method()},
                     {"route", request.route()},
                     {"status", std::to_string(response.status)}};
    // What the handler noted (provider=...), without overriding the fields above.
    for (const auto& field : response.log_fields) {
      const std::string& key = field.first;
      bool taken =
          key == "duration_ms" || key == "refused" ||
          std::any_of(fields.begin(), fields.end(), [&](const LogField& f) { return f.first == key; });
      if (!taken && !key.empty()) fields.emplace_back(key, field.second);
    }
    fields.emplace_back("duration_ms", std::to_string(ms.count()));
    if (!refused.empty()) fields.emplace_back("refused", refused);
    log.info("request", fields);
    return response;
  } catch (...) {
    // Only allocation failure gets here; answer without allocating much.
    return Response::empty(500);
  }
}

int run_program(const Program& program, int argc, char** argv, const Services& services) {
  // Before FCGX_Init, which installs its own SIGPIPE handler only over the default.
  if (std::signal(SIGPIPE, SIG_IGN) != SIG_ERR) redis_sigpipe_ignored_for_good();
  const char* name = program.name.c_str();
  std::vector<const char*> args = options_argv(argc, argv);
  auto parsed = parse_options(static_cast<int>(args.size()), args.data());
  if (!parsed) {
    (void)std::fprintf(stderr, "%s: %s\n", name, parsed.error().reason.c_str());
    return 2;
  }
  const Options& opts = parsed.value();
  if (opts.help) {
    (void)std::fputs(usage_text(program).c_str(), stdout);
    return 0;
  }
  if (opts.version) {
    std::printf("%s %s\n", name, kVersion);
    return 0;
  }

  ConfigLoad load = load_config(opts.config_path);
  if (opts.check_config) return check_config(program, opts, load, services);
  Mode mode = choose_mode(opts);
  if (!load.ok()) {
    print_problems(load.problems);
    (void)std::fprintf(stderr, "%s: not started: the config file has errors\n", name);
    if (mode == Mode::cgi) {
      // The browser learns only that something is wrong; the details are in the log.
      Response page = Response::html_page(500, status_text(500),
                                          "The server is misconfigured. The details are in its error log.");
      write_all(STDOUT_FILENO, page.serialize());
    }
    return 1;
  }
  print_problems(load.problems); // warnings only
  Config config = std::move(load.config);
  if (opts.threads) config.server.threads = *opts.threads;
  int threads = std::max(1, std::min(config.server.threads, kMaxThreads));
  Log log(program.name, config.server.log_level, config.server.log_format);
  Keys keys = derive_keys(config.server.secret);
  http_global_init(); // before any thread: curl_global_init is not thread-safe

  if (mode == Mode::cgi) return serve_cgi(program, config, keys, services, log);

  Fd own;
  OwnedSocketFile owned;
  int listen_fd = mode == Mode::systemd ? 3 : 0;
  if (mode == Mode::own_socket) {
    ListenAddress where = parse_listen(opts.listen).value();
    UnixSocketOptions socket_options;
    socket_options.mode = opts.socket_mode.value_or(kDefaultSocketMode);
    socket_options.group = opts.socket_group;
    auto fd = where.unix_socket ? listen_unix(where.path, socket_options, owned)
                                : listen_tcp(where.host, where.port);
    if (!fd) {
      (void)std::fprintf(stderr, "%s: %s\n", name, fd.error().reason.c_str());
      return 1;
    }
    own = std::move(fd.value());
    listen_fd = own.get();
  }
  Server server(program, config, keys, services, log, listen_fd);
  return serve_fastcgi(server, threads, mode, owned);
}

} // namespace oauthfcgi
