// POST <prefix>/logout: ends the session, expires the cookie, 303 to after_logout.
#include "handlers.hpp"
#include "sessions.hpp"

namespace oauthfcgi {
namespace {

// A logout another site triggers is refused. Browsers send Origin on POST and
// Sec-Fetch-Site; curl and scripts send neither and are allowed.
bool cross_site(const Request& request, const Config& config) {
  if (const std::string* site = request.header("Sec-Fetch-Site"); site && *site == "cross-site") return true;
  if (const std::string* origin = request.header("Origin")) {
    auto ours = url_origin(config.server.public_url);
    return !ours.ok() || *origin != *ours;
  }
  return false;
}

} // namespace

Response handle_logout(const Request& request, Context& ctx) {
  const Config& config = ctx.config;
  if (request.method() != "POST")
    return fail(ctx, make_error(ErrorKind::method_not_allowed, "sign out with a POST (a form button)"),
                ErrorStyle::html, "logout")
        .add_header("Allow", "POST");
  if (cross_site(request, config))
    return fail(ctx, make_error(ErrorKind::forbidden, "sign-out was requested by another site"),
                ErrorStyle::html, "logout");
  Cookie expired = make_cookie(config, session_cookie_name(config), "", 0);
  if (auto cookie = session_cookie(request, config)) {
    auto removed = AuthStore(ctx.store, ctx.keys).delete_session(*cookie);
    if (!removed.ok()) {
      // The cookie goes anyway; the page says the server-side end did not happen.
      Response r = fail(ctx, removed.error(), ErrorStyle::html, "logout");
      r.set_cookie(expired);
      return r;
    }
    if (*removed) ctx.log.info("logout", {});
  }
  Response r = Response::redirect(303, config.server.after_logout);
  r.set_cookie(expired);
  return r;
}

} // namespace oauthfcgi
