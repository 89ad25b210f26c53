// A [provider NAME] section resolved into a Provider: what the section says, then its
// type's defaults and hooks (the type's row, provider_types.hpp), then what every
// OpenID Connect provider needs.
#include "provider.hpp"

#include <utility>

#include "provider_types.hpp"

namespace oauthfcgi {

void default_if_empty(std::string& field, const std::string& value) {
  if (field.empty()) field = value;
}

void add_scope(std::vector<std::string>& scope, const char* value, bool front) {
  for (const auto& s : scope)
    if (s == value) return;
  scope.insert(front ? scope.begin() : scope.end(), value);
}

void openid_defaults(const ProviderConfig& c, Provider& p, const std::string& issuer,
                     std::vector<std::string> scope) {
  p.openid = true;
  p.issuer = issuer;
  if (!c.scope_set) p.scope = std::move(scope);
}

Result<Provider> resolve_provider(const ProviderConfig& c) {
  const ProviderTypeInfo& type = provider_type(c.type);
  Provider p;
  p.name = c.name;
  p.type = c.type;
  p.config = &c;
  p.authorize_url = c.authorize_url;
  p.token_url = c.token_url;
  p.userinfo_url = c.userinfo_url;
  p.emails_url = c.emails_url;
  p.revoke_url = c.revoke_url;
  p.debug_token_url = c.debug_token_url;
  p.api_url = c.api_url;
  p.scope = c.scope;
  p.pkce = c.pkce;
  p.display_name = type.display_name ? type.display_name : c.name;
  p.hooks = type.hooks;
  type.apply_defaults(c, p);
  if (p.openid) {
    add_scope(p.scope, "openid", true); // without it there is no ID token
    p.api_headers = {{"Accept", "application/json"}};
  }
  return p;
}

std::string redirect_uri(const Config& config, const std::string& provider_name) {
  return config.server.public_url + config.server.route_prefix + "/callback/" + provider_name;
}

} // namespace oauthfcgi
