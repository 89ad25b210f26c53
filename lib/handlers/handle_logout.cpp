// POST <prefix>/logout: ends the session, revokes its token where the provider can
// (revoke.hpp), expires the cookie, 303 to after_logout. The session is taken (read
// and deleted in one GETDEL) before the provider is asked: a revocation endpoint that
// hangs or fails never leaves a usable session behind.
#include "flow.hpp"
#include "handlers.hpp"
#include "revoke.hpp"
#include "sessions.hpp"

namespace oauthfcgi {
namespace {

// A logout another site triggers is refused. Browsers send Origin on POST and
// Sec-Fetch-Site; curl and scripts send neither and are allowed.
bool cross_site(const Request& request, const Config& config) {
  if (auto site = request.header("Sec-Fetch-Site"); site && *site == "cross-site") return true;
  if (auto origin = request.header("Origin")) {
    auto ours = url_origin(config.server.public_url);
    return !ours.ok() || *origin != *ours;
  }
  return false;
}

// Revokes the session's token at its provider and logs the sign-out with the outcome.
// Never fails the sign-out: a failure is a warning naming the provider and the reason.
void end_at_provider(Context& ctx, const Session& session) {
  LogFields fields = {{"provider", session.profile.provider}, {"user", session.profile.user()}};
  const ProviderConfig* config = ctx.config.find_provider(session.profile.provider);
  if (!config) {
    // The provider left the config since the sign-in: nobody to ask.
    fields.emplace_back("revocation", "unknown_provider");
    ctx.log.info("logout", fields);
    return;
  }
  auto provider = ready_provider(*config, ctx);
  Result<Revocation> outcome =
      provider.ok() ? revoke_tokens(ctx.http, *provider, session.tokens, ctx.clock.now()) : provider.error();
  if (outcome.ok()) {
    fields.emplace_back("revocation", revocation_name(*outcome));
    ctx.log.info("logout", fields);
    return;
  }
  fields.emplace_back("revocation", "failed");
  fields.emplace_back("reason", outcome.error().reason);
  ctx.log.warn("logout", fields);
}

} // namespace

Response handle_logout(const Request& request, Context& ctx) {
  const Config& config = ctx.config;
  if (cross_site(request, config))
    return fail(ctx, make_error(ErrorKind::forbidden, "sign-out was requested by another site"), "logout");
  // The cookie goes whatever happens next; on a Redis failure the page says the
  // server-side end did not happen.
  Cookie expired = make_cookie(config, session_cookie_name(config), "", 0);
  auto answer = [&](Response r) {
    r.set_cookie(expired);
    return r;
  };
  const auto& cookie = ctx.session;
  if (!cookie) return answer(Response::redirect(303, config.server.after_logout));
  AuthStore sessions(ctx.store, ctx.keys);
  auto taken = sessions.take_session(*cookie);
  if (!taken.ok()) return answer(fail(ctx, taken.error(), "logout"));
  const std::optional<Session>& session = taken->session;
  if (session)
    end_at_provider(ctx, *session);
  else if (taken->found)
    ctx.log.info("logout", {{"revocation", "unreadable_session"}}); // the secret changed: no tokens to revoke
  Response done = Response::redirect(303, config.server.after_logout);
  if (session) done.annotate("provider", session->profile.provider);
  return answer(std::move(done));
}

} // namespace oauthfcgi
