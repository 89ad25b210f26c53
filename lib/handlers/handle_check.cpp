// GET <prefix>/check: nginx auth_request and Apache FastCGI authorizer. Reads only
// the session cookie (and REQUEST_URI for the way back); one Redis round trip. Only a
// session of a provider with pass_access_token has its tokens decoded, and only an
// expiring one of those calls the provider (refresh.hpp).
#include "access.hpp"
#include "flow.hpp"
#include "handlers.hpp"
#include "refresh.hpp"
#include "sessions.hpp"

namespace oauthfcgi {
namespace {

// pass_access_token: the session's tokens with an access token fit to hand on, refreshed
// first when it expires within kRefreshMargin (under the session's lock: concurrent
// checks refresh once). ended: the session has ended (401). outage: the provider failed
// the refresh and the old token has expired (503: oauth-check may answer only
// 200/401/403/503, and a passing outage is what 503 says). While the old token is still
// valid (its last 60 s) a failed refresh hands that one on: the upstream's call works,
// and the next check tries again.
struct LiveToken {
  enum Outcome { ok, ended, outage } outcome = ok;
  TokenSet tokens;
};

LiveToken live_tokens(Context& ctx, const ProviderConfig& pc, std::string_view cookie, Session session) {
  const long now = ctx.clock.now();
  if (!token_expiring(session.tokens, now)) return {LiveToken::ok, std::move(session.tokens)};
  TokenSet old = session.tokens;
  auto provider = ready_provider(pc, ctx);
  Result<Session> fresh = provider.ok() ? fresh_tokens(ctx, *provider, cookie, std::move(session), false)
                                        : Result<Session>(provider.error());
  if (fresh.ok()) return {LiveToken::ok, std::move(fresh->tokens)};
  const Error& e = fresh.error();
  if (e.kind == ErrorKind::unauthenticated) {
    ctx.log.info("check_token", {{"provider", pc.name}, {"status", "401"}, {"reason", e.reason}});
    return {LiveToken::ended, {}};
  }
  if (now < old.expires_at) {
    ctx.log.warn("check_token", {{"provider", pc.name},
                                 {"outcome", "refresh failed, the old token is still valid"},
                                 {"reason", e.reason}});
    return {LiveToken::ok, std::move(old)};
  }
  ctx.log.error("check_token", {{"provider", pc.name}, {"status", "503"}, {"reason", e.reason}});
  return {LiveToken::outage, {}};
}

} // namespace

Response handle_check(const Request& request, Context& ctx) {
  const Config& config = ctx.config;
  auto unauthenticated = [&]() {
    Response r = Response::empty(401);
    std::string back = "/";
    if (auto uri = request.param("REQUEST_URI"); uri && !uri->empty()) back = *uri;
    // default_provider skips the chooser page; with one provider the chooser redirects anyway.
    std::string login = login_path(config);
    if (!config.server.default_provider.empty()) login += "/" + config.server.default_provider;
    r.add_header("X-Auth-Redirect", login + "?" + build_query({{"return_to", back}}));
    return r;
  };
  const auto& cookie = ctx.session;
  if (!cookie) return unauthenticated();
  auto wants_tokens = [&config](const Session& s) {
    const ProviderConfig* pc = config.find_provider(s.profile.provider);
    return pc && pc->pass_access_token ? SessionPart::all : SessionPart::identity;
  };
  auto session =
      AuthStore(ctx.store, ctx.keys).use_session(*cookie, ctx.config.session, ctx.clock.now(), wants_tokens);
  if (!session.ok()) return fail(ctx, session.error(), "check");
  if (!session->has_value()) return unauthenticated();
  Session current = std::move(**session);
  const Profile& p = current.profile;
  // Rules are applied again on every check: a changed rule takes effect at once.
  const ProviderConfig* pc = config.find_provider(p.provider);
  if (!pc) return unauthenticated(); // the provider left the config: its sessions with it
  if (AccessDecision access = check_access(config, *pc, p, current.orgs); !access.allowed) {
    ctx.log.info("check_denied", {{"provider", p.provider}, {"user", p.user()}, {"reason", access.reason}});
    return Response::empty(403).annotate("provider", p.provider);
  }
  // The identity as X-Auth-* for nginx, then as Variable-* for Apache's
  // mod_authnz_fcgi, which exports those to the request.
  const std::pair<const char*, const char*> names[] = {
      {"X-Auth-User", "Variable-REMOTE_USER"}, {"X-Auth-Email", "Variable-AUTH_EMAIL"},
      {"X-Auth-Login", "Variable-AUTH_LOGIN"}, {"X-Auth-Provider", "Variable-AUTH_PROVIDER"},
      {"X-Auth-Id", "Variable-AUTH_ID"},       {"X-Auth-Name", "Variable-AUTH_NAME"},
  };
  const std::string values[] = {p.user(), p.email.value_or(""), p.login.value_or(""), p.provider,
                                p.id,     p.name.value_or("")};
  Response r = Response::empty(200);
  r.annotate("provider", p.provider);
  for (size_t i = 0; i < std::size(names); ++i)
    r.add_header(names[i].first, values[i]);
  for (size_t i = 0; i < std::size(names); ++i)
    r.add_header(names[i].second, values[i]);
  if (pc->pass_access_token) {
    LiveToken live = live_tokens(ctx, *pc, *cookie, std::move(current));
    if (live.outcome == LiveToken::ended) return unauthenticated();
    if (live.outcome == LiveToken::outage) return Response::empty(503).annotate("provider", pc->name);
    const TokenSet& t = live.tokens;
    const std::string expires = t.expires_at ? std::to_string(t.expires_at) : "";
    r.add_header("X-Auth-Access-Token", t.access_token);
    r.add_header("X-Auth-Access-Token-Expires", expires);
    r.add_header("Variable-AUTH_ACCESS_TOKEN", t.access_token);
    r.add_header("Variable-AUTH_ACCESS_TOKEN_EXPIRES", expires);
  }
  return r;
}

} // namespace oauthfcgi
