// Provider type oauth2: plain RFC 6749 with the endpoints the section names; the user
// document read by OIDC or common claim names (profile.cpp), revocation RFC 7009
// (revoke.cpp) when the section has a revoke_url. What ProviderConfig defaults to.
#include "provider_types.hpp"

namespace oauthfcgi {
namespace {

void oauth2_defaults(const ProviderConfig&, Provider& p) {
  p.api_headers = {{"Accept", "application/json"}};
}

} // namespace

ProviderTypeInfo oauth2_type() {
  ProviderTypeInfo t(ProviderType::oauth2, "oauth2", oauth2_defaults, map_oidc_claims, revoke_rfc7009);
  t.config.required_keys = {"authorize_url", "token_url", "userinfo_url"};
  t.config.required_fix = "type oauth2 needs authorize_url, token_url and userinfo_url";
  return t;
}

} // namespace oauthfcgi
