// oauth-fetch: curl for an API behind the client-credentials grant. The token comes
// from a [client NAME] section through lib/token_client (shared in Redis by every
// process and host with cache = redis); this file only reads flags and prints.
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "crypto.hpp"
#include "http_client.hpp"
#include "log.hpp"
#include "serve.hpp"
#include "store.hpp"
#include "text.hpp"
#include "token_client.hpp"
#include "url.hpp"

using namespace oauthfcgi;

namespace {

// Exit statuses; curl's where curl has one.
enum Exit {
  kOk = 0,           // 2xx (and 3xx: redirects are not followed)
  kConfig = 1,       // the config file, or --client, is wrong
  kUsage = 2,        // a bad flag
  kBadUrl = 3,       // URL malformed, or http:// to a host that is not loopback
  kUnreachable = 7,  // the resource could not be reached
  kHttpError = 22,   // the resource answered HTTP >= 400 (body still printed)
  kWriteFailed = 23, // stdout could not be written
  kTimeout = 28,     // the resource, the token endpoint or another process's renewal took too long
  kNoToken = 67,     // no token: the token endpoint refused or failed, or Redis is down
};

constexpr size_t kMaxDataBytes = 64u << 20; // -d @FILE

const char* const kUsageText =
    "Usage: oauth-fetch [--config FILE] [--client NAME] [-X METHOD] [-H 'Name: value']...\n"
    "                   [-d DATA|@FILE|@-]... [-i] [-v] URL\n"
    "       oauth-fetch --version | --help\n";

void help() {
  std::cout
      << "oauth-fetch " << kVersion
      << ": calls URL with a client-credentials token (RFC 6749 4.4) from a [client NAME]\n"
         "section of the config, like curl -f but with the body printed. The token is asked for\n"
         "once and reused (cache = redis: by every process and host on that Redis) until less\n"
         "than min(30 s, 10% of its lifetime) is left; a 401 gets a new token and one retry.\n"
         "\n"
      << kUsageText
      << "\n"
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
         "  3   URL malformed, or http:// to a host that is not loopback (use https://)\n"
         "  7   the URL's server could not be reached\n"
         "  22  HTTP 400 or more (the body is still printed)\n"
         "  23  stdout could not be written\n"
         "  28  timed out ([http] timeout_ms), at the URL, the token endpoint, or waiting for\n"
         "      another process's token request\n"
         "  67  no token: the token endpoint refused or failed, or Redis is unreachable\n";
}

struct Flags {
  std::optional<std::string> config, client, method;
  Headers headers;
  std::optional<std::string> data;
  bool include = false, verbose = false, help = false, version = false;
  std::string url;
};

// A flag problem: "oauth-fetch: <reason>" and the usage, exit 2.
struct UsageError {
  std::string reason;
};

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c);
}

Headers::value_type parse_header(const std::string& h) {
  size_t colon = h.find(':');
  std::string name = h.substr(0, colon);
  if (colon == std::string::npos || name.empty() ||
      !std::all_of(name.begin(), name.end(), [](char c) { return c && is_tchar(c); }))
    throw UsageError{"-H wants 'Name: value', not \"" + printable_excerpt(h, 60) + "\""};
  std::string value(h.substr(colon + 1));
  value.erase(0, value.find_first_not_of(" \t"));
  if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
    throw UsageError{"-H " + name + ": the value may not hold a line break"};
  if (ascii_lowercase(name) == "authorization")
    throw UsageError{"-H Authorization: oauth-fetch sends the token itself"};
  return {name, value};
}

std::string read_data(const std::string& arg) {
  if (arg.empty() || arg[0] != '@') return arg;
  std::string path = arg.substr(1);
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) throw UsageError{"-d @" + path + ": " + std::strerror(errno)};
    in = &file;
  }
  std::string out;
  char buf[65536];
  while (in->read(buf, sizeof buf) || in->gcount() > 0) {
    out.append(buf, static_cast<size_t>(in->gcount()));
    if (out.size() > kMaxDataBytes)
      throw UsageError{"-d @" + path + ": more than " + std::to_string(kMaxDataBytes) + " bytes"};
  }
  return out;
}

Flags parse_flags(int argc, char** argv) {
  Flags f;
  bool positional_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (positional_only || arg.empty() || arg[0] != '-' || arg == "-") {
      if (!f.url.empty())
        throw UsageError{"one URL only (\"" + printable_excerpt(arg, 60) + "\" is a second)"};
      f.url = arg;
      continue;
    }
    if (arg == "--") {
      positional_only = true;
      continue;
    }
    // --name=value, --name value, -Xvalue, -X value.
    std::string name = arg;
    std::optional<std::string> attached;
    if (arg.rfind("--", 0) == 0) {
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        attached = arg.substr(eq + 1);
      }
    } else if (arg.size() > 2) {
      name = arg.substr(0, 2);
      attached = arg.substr(2);
    }
    auto value = [&]() -> std::string {
      if (attached) return *attached;
      if (i + 1 >= argc) throw UsageError{name + " needs a value"};
      return argv[++i];
    };
    auto flag = [&](bool& b) {
      if (attached) throw UsageError{name + " takes no value"};
      b = true;
    };
    if (name == "--config") {
      f.config = value();
    } else if (name == "--client") {
      f.client = value();
    } else if (name == "-X" || name == "--request") {
      std::string m = value();
      if (m.empty() || !std::all_of(m.begin(), m.end(), is_tchar))
        throw UsageError{"-X wants a method such as GET or POST"};
      f.method = m;
    } else if (name == "-H" || name == "--header") {
      f.headers.push_back(parse_header(value()));
    } else if (name == "-d" || name == "--data" || name == "--data-binary") {
      std::string d = read_data(value());
      f.data = f.data ? *f.data + "&" + d : d;
    } else if (name == "-i" || name == "--include") {
      flag(f.include);
    } else if (name == "-v" || name == "--verbose") {
      flag(f.verbose);
    } else if (name == "-s" || name == "--silent") {
      bool ignored = false;
      flag(ignored);
    } else if (name == "-h" || name == "--help") {
      flag(f.help);
    } else if (name == "--version") {
      flag(f.version);
    } else {
      throw UsageError{"unknown option " + name};
    }
  }
  if (!f.help && !f.version && f.url.empty()) throw UsageError{"no URL given"};
  return f;
}

int fail(int status, const std::string& reason) {
  std::cerr << "oauth-fetch: " << reason << "\n";
  return status;
}

int exit_for(FetchStep step, const Error& e) {
  if (e.kind == ErrorKind::provider_timeout) return kTimeout;
  return step == FetchStep::token ? kNoToken : kUnreachable;
}

// What is printed: the answer with the token, should the server echo it, taken out.
bool print_answer(const FetchResult& r, bool include) {
  std::string out;
  if (include) {
    out += "HTTP " + std::to_string(r.response.status) + " " +
           status_text(static_cast<int>(r.response.status)) + "\r\n";
    for (const auto& [name, value] : r.response.headers)
      out += name + ": " + value + "\r\n";
    out += "\r\n";
  }
  out += r.response.body;
  out = redact_values(std::move(out), {r.token});
  return std::fwrite(out.data(), 1, out.size(), stdout) == out.size() && std::fflush(stdout) == 0;
}

int run(int argc, char** argv) {
  Flags f;
  try {
    f = parse_flags(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "oauth-fetch: " << e.reason << " (see --help)\n" << kUsageText;
    return kUsage;
  }
  if (f.help) {
    help();
    return kOk;
  }
  if (f.version) {
    std::cout << "oauth-fetch " << kVersion << "\n";
    return kOk;
  }

  auto url = parse_url(f.url);
  if (!url.ok()) return fail(kBadUrl, "\"" + redact_url(f.url) + "\" is not an absolute http(s) URL");
  if (url->scheme == "http" && !is_loopback_host(url->host))
    return fail(kBadUrl, "refusing to send a token over http:// to " + url->host + " (use https://)");

  const std::string path = f.config ? *f.config : default_config_path();
  ConfigLoad load = load_config(path);
  for (const ConfigProblem& p : load.problems)
    std::cerr << "oauth-fetch: " << p.to_string() << "\n";
  if (!load.ok()) return kConfig;
  const Config& config = load.config;
  const ClientConfig* client = nullptr;
  if (f.client) {
    client = config.find_client(*f.client);
  } else if (config.clients.size() == 1) {
    client = &config.clients.front();
  }
  if (!client) {
    std::string known;
    for (const auto& c : config.clients)
      known += (known.empty() ? "" : ", ") + c.name;
    std::string which =
        f.client ? "no [client " + *f.client + "] section" : "which [client NAME]? (--client NAME)";
    return fail(kConfig, which + " in " + path + (known.empty() ? " (add one)" : " (it has: " + known + ")"));
  }
  if (client->cache == TokenCache::redis && config.server.secret.empty())
    return fail(kConfig,
                "[client " + client->name +
                    "] cache = redis needs [server] secret_file (the key that seals the shared token), "
                    "or use cache = memory");

  http_global_init();
  Log log("oauth-fetch", f.verbose ? LogLevel::debug : LogLevel::error, LogFormat::text);
  CurlHttpClient http(config.http, std::string("oauth-fetch/") + kVersion);
  const Keys keys = derive_keys(config.server.secret);
  const LockTiming timing = lock_timing(config);
  std::unique_ptr<Store> store;
  std::unique_ptr<ClientTokenCache> cache;
  if (client->cache == TokenCache::redis) {
    store = std::make_unique<RedisStore>(config.redis);
    cache = std::make_unique<RedisTokenCache>(*store, keys, *client, timing);
  } else {
    cache = std::make_unique<MemoryTokenCache>(timing.wait);
  }
  TokenClient tokens(*client, http, *cache, &log);

  HttpRequest request;
  request.url = f.url;
  request.method = f.method ? *f.method : f.data ? "POST" : "GET";
  request.headers = f.headers;
  if (f.data) {
    request.body = *f.data;
    bool typed = std::any_of(f.headers.begin(), f.headers.end(),
                             [](const Header& h) { return ascii_lowercase(h.first) == "content-type"; });
    if (!typed) request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  }
  FetchStep step = FetchStep::token;
  auto answer = tokens.fetch(std::move(request), &step);
  if (!answer.ok()) return fail(exit_for(step, answer.error()), answer.error().reason);
  if (!print_answer(*answer, f.include)) return fail(kWriteFailed, "cannot write to stdout");
  long status = answer->response.status;
  if (status >= 400)
    return fail(kHttpError, "HTTP " + std::to_string(status) + " " + status_text(static_cast<int>(status)) +
                                " from " + redact_url(f.url));
  return kOk;
}

} // namespace

int main(int argc, char** argv) {
  // A reader that goes away (| head) is exit 23, not a silent death by SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    return fail(70, std::string("internal error: ") + e.what());
  }
}
