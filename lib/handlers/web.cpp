// What the handlers share: the session cookie read from a request, and a provider ready
// to use. (Cookie names, attributes and value shape live in cookie.cpp.)
#include "access.hpp"
#include "handlers.hpp"
#include "oidc.hpp"

namespace oauthfcgi {

Result<Provider> ready_provider(const ProviderConfig& config, Context& ctx) {
  auto provider = resolve_provider(config);
  if (!provider.ok()) return provider;
  ctx.provider_display = provider->display_name; // named on this request's 502 and 504 pages
  // A github_orgs rule needs the user's private memberships too.
  if (needs_github_orgs(ctx.config, config) && !config.scope_set) provider->scope.push_back("read:org");
  if (!provider->openid) return provider;
  if (auto discovered = discover(*provider, ctx.store, ctx.keys, ctx.http); !discovered.ok())
    return discovered.error();
  return provider;
}

namespace {

std::optional<std::string> token_cookie(const Request& request, const std::string& name) {
  auto value = request.cookie(name);
  if (!value || !is_token_shaped(*value)) return std::nullopt;
  return value;
}

} // namespace

std::optional<std::string> session_cookie(const Request& request, const Config& config) {
  return token_cookie(request, session_cookie_name(config));
}

std::optional<std::string> binding_cookie(const Request& request, const Config& config) {
  return token_cookie(request, binding_cookie_name(config));
}

} // namespace oauthfcgi
