// What a program is (its routes) and the one call its main() makes: run_program
// reads the flags and the config, picks the run mode (own socket, inherited fd 0,
// LISTEN_FDS fd 3, plain CGI) and serves every request through handle_request.
// Where the parts live: options.cpp (flags, --help), pipeline.cpp (limits, route
// table, logging, errors), fcgi_loop.cpp (threads, accept, shutdown), cgi.cpp,
// check_config_output.cpp, serve.cpp (start-up).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "context.hpp"
#include "options.hpp"

namespace oauthfcgi {

// What may follow a route's path: nothing, or "/<name>" (letters, digits, '-', '_'), or
// "/<name>/<path>" (name_then_path: the handler reads the path and judges the name).
enum class RouteTail { none, optional_name, name, name_then_path };

// One row of a program's route table: what the pipeline checks before the handler.
struct Route {
  std::string name;                 // "connect": the log event of the pipeline's refusals
  std::string path;                 // after route_prefix, e.g. "/connect"; "" takes every path
  RouteTail tail = RouteTail::none; // the name goes to Context::route_name
  std::vector<std::string> methods; // the methods taken, in Allow's order; empty takes any
  ErrorStyle error_style = ErrorStyle::html;
  bool reads_session = false; // the session cookie goes to Context::session
  Handler handler = {};
  std::string wrong_method; // the 405's reason
  std::string not_found;    // the 404's reason (a path or name the route does not take)
  // The handler refuses a body over max_body_bytes itself, after its own checks
  // (oauth-api's order); the body is then not read, and the handler must not use it.
  bool late_body_limit = false;
};

struct Program {
  std::string name;    // "oauth-profile"
  std::string summary; // one line for --help: what it serves
  // The route table (routes.hpp); a path no row takes is refused as the first row
  // refuses it.
  std::vector<Route> routes = {};
};

// A program of one route that takes every path and method and answers errors in
// `style`: the serve loop's tests and their echo program.
Program catch_all_program(std::string name, std::string summary, Handler handler,
                          ErrorStyle style = ErrorStyle::html);

std::string usage_text(const Program& program);

// Per-thread services; the defaults make a RedisStore and a CurlHttpClient.
struct Services {
  std::function<std::unique_ptr<Store>(const Config&)> make_store;
  std::function<std::unique_ptr<HttpClient>(const Config&)> make_http;
};
Services default_services();

// Runs one request through limits, route table, handler and error mapping, and logs
// it. Exceptions from the handler become a 500; nothing escapes.
Response handle_request(const Program& program, const Request& request, Context& context);

// main() of every program: returns the process exit status (2 bad flag, 1 bad
// config or socket, 0 otherwise). In the FastCGI modes a SIGTERM/SIGINT ends the
// process from inside, once requests in flight are answered: workers idle on a
// kept-alive connection cannot be woken, so they are not joined.
int run_program(const Program& program, int argc, char** argv, const Services& services = default_services());

extern const char* const kVersion;

} // namespace oauthfcgi
