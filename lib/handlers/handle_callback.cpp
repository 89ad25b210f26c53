// GET <prefix>/callback/<provider>?code=…&state=…: the state checked, the code
// exchanged, the user read and allowed, the session stored and its cookie set.
#include "access.hpp"
#include "flow.hpp"
#include "handlers.hpp"
#include "oidc.hpp"
#include "provider_github.hpp"
#include "sessions.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

Result<std::string> single(const Request& request, const char* name) {
  ParamLookup p = request.query_param(name);
  if (p.state == ParamState::missing || p.value.empty())
    return make_error(ErrorKind::bad_request, std::string("the sign-in answer has no ") + name);
  if (p.state == ParamState::duplicated)
    return make_error(ErrorKind::bad_request, std::string("the sign-in answer has more than one ") + name);
  return p.value;
}

// The provider sent the browser back with an error instead of a code. Anyone can
// forge that URL and send a victim to it, so the page on our origin says only fixed
// text; the provider's words (error_description, error_reason) go to the log.
Response provider_refused(const Request& request, Context& ctx, const Provider& provider,
                          const std::string& error) {
  // The state is spent only when it is this browser's, for this provider: an error
  // sent with a state from another browser leaves it to its own.
  auto state = single(request, "state");
  auto binding = binding_cookie(request, ctx.config);
  if (state.ok() && binding)
    (void)AuthStore(ctx.store, ctx.keys).claim_state(*state, provider.name, *binding);
  std::string description, said;
  if (ParamLookup d = request.query_param("error_description");
      d.state == ParamState::single && !d.value.empty()) {
    description = printable_excerpt(d.value, 200);
    said = " " + provider.display_name + " said: \"" + description + "\".";
  }
  if (error == "access_denied") {
    ParamLookup why = request.query_param("error_reason");
    ctx.log.info("login_declined", {{"provider", provider.name},
                                    {"provider_error", printable_excerpt(error, 64)},
                                    {"error_reason", printable_excerpt(why.value, 64)},
                                    {"error_description", description}});
    return Response::html_page(403, "Sign-in cancelled",
                               "You chose not to sign in. Nothing was shared with this site.",
                               login_path(ctx.config), "Sign in again");
  }
  // A 502: its page says only that the provider's answer was of no use (error_answer).
  return fail(ctx,
              make_error(ErrorKind::provider_error, provider.name + " refused the sign-in: " +
                                                        printable_excerpt(error, 64) + "." + said),
              "callback");
}

// The code -> tokens (checked: the ID token for OpenID types) -> the user.
Result<std::pair<TokenSet, Profile>> sign_in(Context& ctx, const Provider& provider, const std::string& code,
                                             const LoginState& login, long now) {
  auto tokens =
      exchange_code(ctx.http, provider, redirect_uri(ctx.config, provider.name), code, login.verifier, now);
  if (!tokens.ok()) return tokens.error();
  Result<Profile> profile = make_error(ErrorKind::internal, "no profile");
  if (provider.openid) {
    auto claims =
        verify_id_token(provider, ctx.store, ctx.keys, ctx.http, tokens->id_token, login.nonce, now);
    if (!claims.ok()) return claims.error();
    profile = oidc_profile(ctx.http, provider, *tokens, claims->get());
  } else {
    profile = fetch_profile(ctx.http, provider, *tokens);
  }
  if (!profile.ok()) return profile.error();
  return std::pair{std::move(tokens.value()), std::move(profile.value())};
}

// RFC 9207: an OpenID server says who answered. Checked when it promises to, and
// whenever present: an answer from another server (mix-up) is refused.
Result<void> check_issuer(const Request& request, const Provider& provider) {
  if (!provider.openid) return {};
  ParamLookup iss = request.query_param("iss");
  bool present = iss.state != ParamState::missing;
  if ((present && (iss.state != ParamState::single || iss.value != provider.issuer)) ||
      (!present && provider.iss_parameter_supported))
    return make_error(ErrorKind::bad_request, present ? "the sign-in answer names another issuer (iss)"
                                                      : "the sign-in answer lacks the issuer (iss)");
  return {};
}

// What the provider's answer carries, once its state is taken and matches this
// browser and provider.
struct Answer {
  std::string code;
  LoginState login;
};

Result<Answer> take_answer(const Request& request, Context& ctx, const Provider& provider) {
  auto state = single(request, "state");
  if (!state.ok()) return state.error();
  auto code = single(request, "code");
  if (!code.ok()) return code.error();
  auto binding = binding_cookie(request, ctx.config);
  if (!binding)
    return make_error(ErrorKind::bad_request, "this browser did not start the sign-in (no binding cookie)");
  // Taken atomically, and only when it is this browser's for this provider: of two
  // callbacks with one state exactly one gets the record, and a stranger's try spends nothing.
  auto claimed = AuthStore(ctx.store, ctx.keys).claim_state(*state, provider.name, *binding);
  if (!claimed.ok()) return claimed.error();
  switch (claimed->outcome) {
  case AuthStore::Claim::claimed: break;
  case AuthStore::Claim::unknown:
    return make_error(ErrorKind::bad_request, "the sign-in link is unknown, expired or already used");
  case AuthStore::Claim::other_provider:
    return make_error(ErrorKind::bad_request, "the sign-in was started for another provider");
  case AuthStore::Claim::other_browser:
    return make_error(ErrorKind::bad_request, "the sign-in was started in another browser");
  }
  return Answer{std::move(code.value()), std::move(claimed->login)};
}

// The signed-in user: checked against the access rules, given a new session.
Response start_session(Context& ctx, const ProviderConfig& pc, const Provider& provider, TokenSet tokens,
                       Profile profile, const LoginState& login, long now) {
  const Config& config = ctx.config;
  std::vector<std::string> orgs;
  if (needs_github_orgs(config, pc)) {
    auto read = github_orgs(ctx.http, provider, tokens);
    if (!read.ok()) return fail(ctx, read.error(), "callback");
    orgs = std::move(read.value());
  }
  if (AccessDecision access = check_access(config, pc, profile, orgs); !access.allowed) {
    ctx.log.info("access_denied",
                 {{"provider", provider.name}, {"user", profile.user()}, {"reason", access.reason}});
    return Response::html_page(
        403, "Not allowed", "You signed in as " + profile.user() + ", who is not allowed to use this site.",
        login_path(config), "Sign in with another account");
  }

  // A new session id at every login: a value planted before login is never promoted.
  std::string cookie_value = ctx.random.token(32);
  Session session{std::move(profile), std::move(tokens), now, now + config.session.ttl, std::move(orgs)};
  AuthStore auth(ctx.store, ctx.keys);
  if (auto stored = auth.put_session(cookie_value, session, session_ttl(session, config.session, now));
      !stored.ok())
    return fail(ctx, stored.error(), "callback");

  ctx.log.info("login", {{"provider", provider.name}, {"user", session.profile.user()}});
  Response r = Response::redirect(302, config.server.public_url + login.return_to);
  r.add_header("Referrer-Policy", "no-referrer");
  r.set_cookie(make_cookie(config, session_cookie_name(config), cookie_value, config.session.ttl));
  return r;
}

// pc: the configured provider the route names, or nullptr.
Response callback_flow(const Request& request, Context& ctx, const ProviderConfig* pc) {
  if (!pc) return fail(ctx, make_error(ErrorKind::not_found, "no such provider"), "callback");
  auto provider = ready_provider(*pc, ctx);
  if (!provider.ok()) return fail(ctx, provider.error(), "callback");
  if (auto issuer = check_issuer(request, *provider); !issuer.ok())
    return fail(ctx, issuer.error(), "callback");
  if (ParamLookup error = request.query_param("error"); error.state != ParamState::missing)
    return provider_refused(request, ctx, *provider, error.value);
  auto answer = take_answer(request, ctx, *provider);
  if (!answer.ok()) return fail(ctx, answer.error(), "callback");

  long now = ctx.clock.now();
  auto signed_in = sign_in(ctx, *provider, answer->code, answer->login, now);
  if (!signed_in.ok()) return fail(ctx, signed_in.error(), "callback");
  auto& [tokens, profile] = *signed_in;
  return start_session(ctx, *pc, *provider, std::move(tokens), std::move(profile), answer->login, now);
}

} // namespace

// Every answer names the provider in the request's log line, when it is a configured one.
Response handle_callback(const Request& request, Context& ctx) {
  const ProviderConfig* pc = ctx.config.find_provider(ctx.route_name);
  Response r = callback_flow(request, ctx, pc);
  if (pc) r.annotate("provider", pc->name);
  return r;
}

} // namespace oauthfcgi
