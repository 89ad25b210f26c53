// GET <prefix>/profile: the signed-in user as JSON, never a token. With ?refresh=1 the
// user is fetched anew from the provider first (refreshing the token when needed) and
// the stored profile updated.
#include "flow.hpp"
#include "handlers.hpp"
#include "refresh.hpp"
#include "sessions.hpp"

namespace oauthfcgi {
namespace {

// ?refresh=1 (or true) asks for a provider call; 0, false or absent do not.
Result<bool> wants_refresh(const Request& request) {
  ParamLookup p = request.query_param("refresh");
  if (p.state == ParamState::missing) return false;
  if (p.state == ParamState::single) {
    if (p.value == "1" || p.value == "true") return true;
    if (p.value == "0" || p.value == "false") return false;
  }
  return make_error(ErrorKind::bad_request, "refresh must be given once, as 1 or 0");
}

} // namespace

Response handle_profile(const Request& request, Context& ctx) {
  auto refresh = wants_refresh(request);
  if (!refresh.ok()) return fail(ctx, refresh.error(), "profile");
  const auto& cookie = ctx.session;
  if (!cookie) return error_answer(ctx, make_error(ErrorKind::unauthenticated, "not signed in"));
  // Only ?refresh=1 calls the provider and so needs the tokens themselves.
  auto session = AuthStore(ctx.store, ctx.keys)
                     .use_session(*cookie, ctx.config.session, ctx.clock.now(),
                                  *refresh ? SessionPart::all : SessionPart::identity);
  if (!session.ok()) return fail(ctx, session.error(), "profile");
  if (!session->has_value())
    return error_answer(ctx, make_error(ErrorKind::unauthenticated, "not signed in"));
  Session current = std::move(**session);
  if (*refresh) {
    const ProviderConfig* pc = ctx.config.find_provider(current.profile.provider);
    if (!pc)
      return fail(ctx,
                  make_error(ErrorKind::unauthenticated,
                             "the provider of this session is no longer configured: sign in again"),
                  "profile");
    auto provider = ready_provider(*pc, ctx);
    if (!provider.ok()) return fail(ctx, provider.error(), "profile");
    auto refetched = refetch_profile(ctx, *provider, *cookie, std::move(current));
    if (!refetched.ok()) return fail(ctx, refetched.error(), "profile");
    current = std::move(refetched.value());
  }
  // The profile, and what is known of the token: expiry, validity, scopes. Never the token.
  Json body = json_object();
  profile_to(body.get(), current.profile);
  token_info_to(body.get(), current.tokens, ctx.clock.now());
  return Response::json(200, json_print(body.get())).annotate("provider", current.profile.provider);
}

} // namespace oauthfcgi
