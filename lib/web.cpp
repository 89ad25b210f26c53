// What the handlers share: the cookies they set and read, and a provider ready to use.
#include "access.hpp"
#include "handlers.hpp"
#include "oidc.hpp"

#include <algorithm>

namespace oauthfcgi {

std::string session_cookie_name(const Config& config) {
  return config.session.cookie_name;
}
std::string binding_cookie_name(const Config& config) {
  return config.session.cookie_name + "_bind";
}

Cookie make_cookie(const Config& config, std::string name, std::string value, std::optional<long> max_age) {
  Cookie c;
  c.name = std::move(name);
  c.value = std::move(value);
  c.max_age = max_age;
  c.secure = config.server.public_url_https;
  c.http_only = true;
  c.same_site = "Lax";
  c.path = "/";
  return c;
}

bool is_token_shaped(std::string_view value) {
  return value.size() == 43 && std::all_of(value.begin(), value.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_';
         });
}

Result<Provider> ready_provider(const ProviderConfig& config, Context& ctx) {
  auto provider = resolve_provider(config);
  if (!provider.ok()) return provider;
  // A github_orgs rule needs the user's private memberships too.
  if (needs_github_orgs(ctx.config, config) && !config.scope_set) provider->scope.push_back("read:org");
  if (!provider->openid) return provider;
  if (auto discovered = discover(*provider, ctx.store, ctx.http); !discovered.ok()) return discovered.error();
  return provider;
}

std::optional<std::string> session_cookie(const Request& request, const Config& config) {
  auto value = request.cookie(session_cookie_name(config));
  if (!value || !is_token_shaped(*value)) return std::nullopt;
  return value;
}

} // namespace oauthfcgi
