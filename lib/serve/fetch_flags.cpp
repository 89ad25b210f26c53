// oauth-fetch's flags, curl's where curl has one, and its --help.
#include "fetch_flags.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "options.hpp"
#include "serve.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

constexpr size_t kMaxDataBytes = 64u << 20; // -d @FILE

Error usage_error(std::string reason) {
  return make_error(ErrorKind::config, std::move(reason));
}

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
}

Result<Header> parse_header(const std::string& h) {
  size_t colon = h.find(':');
  std::string name = h.substr(0, colon);
  if (colon == std::string::npos || name.empty() ||
      !std::all_of(name.begin(), name.end(), [](char c) { return c && is_tchar(c); }))
    return usage_error("-H wants 'Name: value', not \"" + printable_excerpt(h, 60) + "\"");
  std::string value(h.substr(colon + 1));
  value.erase(0, value.find_first_not_of(" \t"));
  if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
    return usage_error("-H " + name + ": the value may not hold a line break");
  if (ascii_lowercase(name) == "authorization")
    return usage_error("-H Authorization: oauth-fetch sends the token itself");
  return Header{name, value};
}

// -d's value: as is, or @FILE's or @- (stdin's) bytes.
Result<std::string> read_data(const std::string& arg) {
  if (arg.empty() || arg[0] != '@') return arg;
  std::string path = arg.substr(1);
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return usage_error("-d @" + path + ": " + std::strerror(errno));
    in = &file;
  }
  std::string out;
  char buf[65536];
  while (in->read(buf, sizeof buf) || in->gcount() > 0) {
    out.append(buf, static_cast<size_t>(in->gcount()));
    if (out.size() > kMaxDataBytes)
      return usage_error("-d @" + path + ": more than " + std::to_string(kMaxDataBytes) + " bytes");
  }
  return out;
}

// A flag that takes a value: --config, --client, -X, -H, -d.
Result<void> set_value(FetchFlags& f, const std::string& name, const std::string& v) {
  if (name == "--config") {
    f.config = v;
  } else if (name == "--client") {
    f.client = v;
  } else if (name == "-X" || name == "--request") {
    if (v.empty() || !std::all_of(v.begin(), v.end(), is_tchar))
      return usage_error("-X wants a method such as GET or POST");
    f.method = v;
  } else if (name == "-H" || name == "--header") {
    auto header = parse_header(v);
    if (!header) return header.error();
    f.headers.push_back(*header);
  } else {
    auto d = read_data(v);
    if (!d) return d.error();
    f.data = f.data ? *f.data + "&" + *d : *d;
  }
  return {};
}

bool takes_value(const std::string& n) {
  return n == "--config" || n == "--client" || n == "-X" || n == "--request" || n == "-H" ||
         n == "--header" || n == "-d" || n == "--data" || n == "--data-binary";
}

// A flag without a value; nullptr for an unknown flag.
bool* switch_of(FetchFlags& f, const std::string& n, bool& ignored) {
  if (n == "-i" || n == "--include") return &f.include;
  if (n == "-v" || n == "--verbose") return &f.verbose;
  if (n == "-s" || n == "--silent") return &ignored; // curl's; nothing else is printed anyway
  if (n == "-h" || n == "--help") return &f.help;
  if (n == "--version") return &f.version;
  return nullptr;
}

} // namespace

const char* const kFetchUsage =
    "Usage: oauth-fetch [--config FILE] [--client NAME] [-X METHOD] [-H 'Name: value']...\n"
    "                   [-d DATA|@FILE|@-]... [-i] [-v] URL\n"
    "       oauth-fetch --version | --help\n";

Result<FetchFlags> parse_fetch_flags(int argc, const char* const* argv) {
  FetchFlags f;
  bool positional_only = false, ignored = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (positional_only || arg.empty() || arg[0] != '-' || arg == "-") {
      if (!f.url.empty())
        return usage_error("one URL only (\"" + printable_excerpt(arg, 60) + "\" is a second)");
      f.url = arg;
    } else if (arg == "--") {
      positional_only = true;
    } else if (FlagWord flag = split_flag(arg); takes_value(flag.name)) {
      auto v = flag_value(flag, i, argc, argv);
      if (!v) return usage_error(flag.name + " needs a value");
      if (auto set = set_value(f, flag.name, *v); !set) return set.error();
    } else if (bool* on = switch_of(f, flag.name, ignored)) {
      if (flag.attached) return usage_error(flag.name + " takes no value");
      *on = true;
    } else {
      return usage_error("unknown option " + flag.name);
    }
  }
  if (!f.help && !f.version && f.url.empty()) return usage_error("no URL given");
  return f;
}

// Declarative text.
std::string fetch_help_text() {
  return std::string("oauth-fetch ") + kVersion +
         ": calls URL with a client-credentials token (RFC 6749 4.4) from a [client NAME]\n"
         "section of the config, like curl -f but with the body printed. The token is asked for\n"
         "once and reused (cache = redis: by every process and host on that Redis) until less\n"
         "than min(30 s, 10% of its lifetime) is left; a 401 gets a new token and one retry.\n"
         "\n" +
         kFetchUsage +
         "\n"
         "Options:\n"
         "  --config FILE          the config file (else $OAUTH_FCGI_CONFIG, else\n"
         "                         /etc/oauth-fcgi/oauth-fcgi.conf)\n"
         "  --client NAME          the [client NAME] section (may be left out when there is one)\n"
         "  -X, --request METHOD   GET by default, POST with -d\n"
         "  -H, --header 'N: V'    a request header, repeatable (not Authorization: that is the token)\n"
         "  -d, --data DATA        a request body, sent as is; @FILE reads a file, @- stdin;\n"
         "                         repeated ones are joined with '&'. Content-Type defaults to\n"
         "                         application/x-www-form-urlencoded\n"
         "  -i, --include          print the status line and the response headers first\n"
         "  -v, --verbose          log token requests and retries to stderr\n"
         "  -s, --silent           accepted for curl's sake; nothing but the answer is printed anyway\n"
         "  --version, --help\n"
         "\n"
         "The body goes to stdout (with -i after the headers); the access token never appears\n"
         "in it (replaced by [redacted] should the server echo it). One line on stderr says\n"
         "what went wrong. [http] timeout_ms, connect_timeout_ms, max_response_bytes and\n"
         "ca_file apply to every call.\n"
         "\n"
         "Exit status:\n"
         "  0   HTTP 2xx or 3xx (redirects are not followed)\n"
         "  1   the config file or --client is wrong\n"
         "  2   a bad flag\n"
         "  3   URL malformed, http:// to a host that is not loopback (use https://), or a URL\n"
         "      not under the client's allow_urls; nothing was sent\n"
         "  7   the URL's server could not be reached\n"
         "  22  HTTP 400 or more (the body is still printed)\n"
         "  23  stdout could not be written\n"
         "  28  timed out ([http] timeout_ms), at the URL, the token endpoint, or waiting for\n"
         "      another process's token request\n"
         "  67  no token: the token endpoint refused or failed, or Redis is unreachable\n";
}

} // namespace oauthfcgi
