// GET <prefix>/profile: the signed-in user as JSON, never a token.
#include "flow.hpp"
#include "handlers.hpp"
#include "sessions.hpp"

namespace oauthfcgi {

Response handle_profile(const Request& request, Context& ctx) {
  if (request.method() != "GET" && request.method() != "HEAD")
    return fail(ctx, make_error(ErrorKind::method_not_allowed, "use GET"), ErrorStyle::json, "profile")
        .add_header("Allow", "GET, HEAD");
  auto cookie = session_cookie(request, ctx.config);
  if (!cookie)
    return error_response(make_error(ErrorKind::unauthenticated, "not signed in"), ErrorStyle::json);
  auto session = AuthStore(ctx.store, ctx.keys).use_session(*cookie, ctx.config.session, unix_now());
  if (!session.ok()) return fail(ctx, session.error(), ErrorStyle::json, "profile");
  if (!session->has_value())
    return error_response(make_error(ErrorKind::unauthenticated, "not signed in"), ErrorStyle::json);
  // The profile, and what is known of the token: expiry, validity, scopes. Never the token.
  Json body = json_object();
  profile_to(body.get(), (*session)->profile);
  token_info_to(body.get(), (*session)->tokens, unix_now());
  return Response::json(200, json_print(body.get()));
}

} // namespace oauthfcgi
