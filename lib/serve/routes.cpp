// The route table: what each route needs before its handler runs. check, profile
// and logout take every path (their location in the web server is their route;
// an Apache authorizer sees the protected page's path).
#include "routes.hpp"

#include <stdexcept>
#include <string>

#include "handlers.hpp"

namespace oauthfcgi {

const std::vector<Route>& route_table() {
  using T = RouteTail;
  using S = ErrorStyle;
  // clang-format off
  static const std::vector<Route> table = {
    // name      path         tail             methods          style           session  handler
    //   wrong_method, not_found[, late_body_limit]
    {"connect",  "/connect",  T::optional_name, {"GET", "HEAD"}, S::html,        false,   handle_connect,
     "use GET to sign in", "no such sign-in page"},
    {"callback", "/callback", T::name,          {"GET"},         S::html,        false,   handle_callback,
     "the sign-in answer comes by GET", "no such provider"},
    {"profile",  "",          T::none,          {"GET", "HEAD"}, S::json,        true,    handle_profile,
     "use GET", ""},
    {"logout",   "",          T::none,          {"POST"},        S::html,        true,    handle_logout,
     "sign out with a POST (a form button)", ""},
    {"check",    "",          T::none,          {},              S::status_only, true,    handle_check,
     "", ""},
    {"api",      "/api",      T::name_then_path, {},             S::json,        true,    handle_api,
     "", "no such API route: call <route_prefix>/api/<provider>/<path>", true},
  };
  // clang-format on
  return table;
}

const Route& route(std::string_view name) {
  for (const Route& r : route_table())
    if (r.name == name) return r;
  throw std::out_of_range("no route named \"" + std::string(name) + "\"");
}

} // namespace oauthfcgi
