// What each provider type needs, as data: endpoints, default scope, and the few
// quirks (headers, where the email lives). Resolved once from the config.
#pragma once

#include <string>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "http_client.hpp"

namespace oauthfcgi {

struct Provider {
  std::string name;
  ProviderType type = ProviderType::oauth2;
  const ProviderConfig* config = nullptr; // client_id, client_secret, access rules
  std::string authorize_url, token_url, userinfo_url, emails_url, revoke_url;
  std::vector<std::string> scope;
  bool pkce = true;
  // Headers every API call to this provider carries (GitHub wants its Accept and version).
  Headers api_headers;
  // Human name for pages: "GitHub", or the section name for generic types.
  std::string display_name;
};

// Applies the type's defaults to a [provider NAME] section. Types whose flow is not
// built yet are an error naming the type.
Result<Provider> resolve_provider(const ProviderConfig& config);

// redirect_uri = public_url + route_prefix + "/callback/" + name, exactly.
std::string redirect_uri(const Config& config, const std::string& provider_name);

} // namespace oauthfcgi
