// GET <prefix>/connect[/<provider>][?return_to=/path]: the chooser page, or the
// start of a sign-in at the provider.
#include "flow.hpp"
#include "handlers.hpp"
#include "return_to.hpp"
#include "sessions.hpp"

namespace oauthfcgi {
namespace {

std::string return_to_or_default(const Request& request, const Config& config) {
  ParamLookup given = request.query_param("return_to");
  if (given.state == ParamState::single) {
    if (auto safe = safe_return_to(given.value)) return *safe;
  }
  return config.server.after_login; // anything else is dropped silently
}

Response chooser(const Config& config, const std::string& return_to) {
  std::string base = login_path(config) + "/";
  Params keep;
  if (return_to != config.server.after_login) keep.emplace_back("return_to", return_to);
  std::string query = keep.empty() ? "" : "?" + build_query(keep);
  if (config.providers.size() == 1) return Response::redirect(302, base + config.providers[0].name + query);
  std::vector<Response::Link> links;
  for (const auto& p : config.providers) {
    auto provider = resolve_provider(p);
    links.push_back(
        {base + p.name + query, "Sign in with " + (provider.ok() ? provider->display_name : p.name)});
  }
  return Response::html_page(200, "Sign in", "Choose how to sign in:", links);
}

// The login at pc: a state in Redis, the binding cookie, the redirect to the provider.
Response start_login(const Request& request, Context& ctx, const ProviderConfig& pc,
                     const std::string& return_to) {
  const Config& config = ctx.config;
  auto provider = ready_provider(pc, ctx);
  if (!provider.ok()) return fail(ctx, provider.error(), "connect");

  // One binding value per browser, reused while it lives, so logins in several tabs all complete.
  auto existing = binding_cookie(request, config);
  std::string binding = existing ? *existing : ctx.random.token(32);

  std::string state = ctx.random.token(32);
  Pkce pkce = new_pkce(ctx.random);
  // OpenID Connect: a nonce the ID token must carry back (replay of an ID token).
  std::string nonce = provider->openid ? ctx.random.token(32) : "";
  LoginState login{provider->name, binding_mac(ctx.keys, binding), pkce.verifier, nonce, return_to,
                   ctx.clock.now()};
  AuthStore auth(ctx.store, ctx.keys);
  // Each pending login holds a state in Redis for kStateTtl: one browser gets a few at
  // a time. (A client that drops its cookie gets a new binding each time: nginx's
  // limit_req bounds that one, see deploy-nginx.md.)
  auto pending = auth.add_pending(binding);
  if (!pending.ok()) return fail(ctx, pending.error(), "connect");
  if (*pending > kMaxPendingLogins) {
    return fail(ctx,
                make_error(ErrorKind::too_many_requests,
                           "This browser has " + std::to_string(kMaxPendingLogins) +
                               " sign-ins in progress already. Finish one of them, or try again in " +
                               std::to_string(kStateTtl.count() / 60) + " minutes."),
                "connect");
  }
  if (auto stored = auth.put_state(state, login); !stored.ok()) {
    (void)auth.forget_pending(binding); // no state, nothing pending
    return fail(ctx, stored.error(), "connect");
  }

  auto url = authorize_url(*provider, redirect_uri(config, provider->name), state, pkce.challenge, nonce);
  if (!url.ok()) return fail(ctx, url.error(), "connect");
  ctx.log.info("login_started", {{"provider", provider->name}});
  Response r = Response::redirect(302, *url);
  r.add_header("Referrer-Policy", "no-referrer");
  r.set_cookie(
      make_cookie(config, binding_cookie_name(config), binding, static_cast<long>(kStateTtl.count())));
  return r;
}

} // namespace

Response handle_connect(const Request& request, Context& ctx) {
  const Config& config = ctx.config;
  std::string return_to = return_to_or_default(request, config);
  if (ctx.route_name.empty()) return chooser(config, return_to);

  const ProviderConfig* pc = config.find_provider(ctx.route_name);
  if (!pc)
    return fail(ctx, make_error(ErrorKind::not_found, "no provider named \"" + ctx.route_name + "\""),
                "connect");
  // Every answer from here on names the provider in the request's log line.
  Response r = start_login(request, ctx, *pc, return_to);
  r.annotate("provider", pc->name);
  return r;
}

} // namespace oauthfcgi
