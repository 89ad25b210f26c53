// The serve loop every program hands its handler to: common flags, config,
// the four run modes of DESIGN.md (own socket, inherited fd 0, LISTEN_FDS fd 3,
// plain CGI), N worker threads each with its own Store and HttpClient, limits
// checked before the handler, one log line per request, clean SIGTERM shutdown.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "crypto.hpp"
#include "http_client.hpp"
#include "log.hpp"
#include "request.hpp"
#include "response.hpp"
#include "store.hpp"

namespace oauthfcgi {

// What a handler may use. One per worker thread; config and keys are shared, read-only.
struct Context {
  const Config& config;
  const Keys& keys;
  Store& store;
  HttpClient& http;
  const Log& log; // carries this request's id
};

using Handler = std::function<Response(const Request&, Context&)>;

struct Program {
  std::string name;    // "oauth-profile"
  std::string summary; // one line for --help: what it serves
  Handler handler;
  ErrorStyle error_style = ErrorStyle::html;
};

struct Options {
  std::string config_path;           // resolved: --config, $OAUTH_FCGI_CONFIG, default
  std::optional<int> threads;        // --threads
  std::string listen;                // --listen unix:PATH | HOST:PORT; empty = inherited/CGI
  std::optional<gid_t> socket_group; // --socket-group, resolved; only with --listen unix:
  std::optional<mode_t> socket_mode; // --socket-mode; only with --listen unix:
  bool check_config = false, version = false, help = false;
};
Result<Options> parse_options(int argc, const char* const* argv);
std::string usage_text(const Program& program);

// Per-thread services; the defaults make a RedisStore and a CurlHttpClient.
struct Services {
  std::function<std::unique_ptr<Store>(const Config&)> make_store;
  std::function<std::unique_ptr<HttpClient>(const Config&)> make_http;
};
Services default_services();

// route_prefix + "/connect": where every "start again" link and 401 redirect points.
std::string login_path(const Config& config);

// Runs one request through limits, handler and error mapping, and logs it.
// Exceptions from the handler become a 500; nothing escapes.
Response handle_request(const Program& program, const Request& request, Context& context);

// main() of every program: returns the process exit status (2 bad flag, 1 bad
// config or socket, 0 otherwise). In the FastCGI modes a SIGTERM/SIGINT ends the
// process from inside, once requests in flight are answered: workers idle on a
// kept-alive connection cannot be woken, so they are not joined.
int run_program(const Program& program, int argc, char** argv, const Services& services = default_services());

extern const char* const kVersion;

} // namespace oauthfcgi
