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
  Response r = Response::empty(200);
  r.annotate("provider", p.provider);
  r.add_header("X-Auth-User", p.user());
  r.add_header("X-Auth-Email", p.email.value_or(""));
  r.add_header("X-Auth-Login", p.login.value_or(""));
  r.add_header("X-Auth-Provider", p.provider);
  r.add_header("X-Auth-Id", p.id);
  r.add_header("X-Auth-Name", p.name.value_or(""));
  // The same identity for Apache's mod_authnz_fcgi, which exports Variable-* to the request.
  r.add_header("Variable-REMOTE_USER", p.user());
  r.add_header("Variable-AUTH_EMAIL", p.email.value_or(""));
  r.add_header("Variable-AUTH_LOGIN", p.login.value_or(""));
  r.add_header("Variable-AUTH_PROVIDER", p.provider);
  r.add_header("Variable-AUTH_ID", p.id);
  r.add_header("Variable-AUTH_NAME", p.name.value_or(""));
  return r;
}

} // namespace oauthfcgi
