// GET <prefix>/profile: the signed-in user as JSON, never a token.
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
  auto session = AuthStore(ctx.store, ctx.keys).get_session(*cookie);
  if (!session.ok()) return fail(ctx, session.error(), ErrorStyle::json, "profile");
  if (!session->has_value())
    return error_response(make_error(ErrorKind::unauthenticated, "not signed in"), ErrorStyle::json);
  return Response::json(200, profile_json((*session)->profile));
}

} // namespace oauthfcgi
