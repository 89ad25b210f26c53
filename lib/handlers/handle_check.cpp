// GET <prefix>/check: nginx auth_request and Apache FastCGI authorizer. Reads only
// the session cookie (and REQUEST_URI for the way back); one Redis round trip.
#include "access.hpp"
#include "flow.hpp"
#include "handlers.hpp"
#include "sessions.hpp"

namespace oauthfcgi {

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
  auto session = AuthStore(ctx.store, ctx.keys)
                     .use_session(*cookie, ctx.config.session, ctx.clock.now(), SessionPart::identity);
  if (!session.ok()) return fail(ctx, session.error(), "check");
  if (!session->has_value()) return unauthenticated();
  const Profile& p = (*session)->profile;
  // Rules are applied again on every check: a changed rule takes effect at once.
  const ProviderConfig* pc = config.find_provider(p.provider);
  if (!pc) return unauthenticated(); // the provider left the config: its sessions with it
  if (AccessDecision access = check_access(config, *pc, p, (*session)->orgs); !access.allowed) {
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
  return r;
}

} // namespace oauthfcgi
