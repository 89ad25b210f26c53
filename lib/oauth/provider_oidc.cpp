// Provider type oidc: any OpenID Connect provider, found from its issuer by discovery
// (oidc.cpp); profile from the standard claims, revocation RFC 7009 (revoke.cpp).
#include "provider_types.hpp"

namespace oauthfcgi {
namespace {

void oidc_defaults(const ProviderConfig& c, Provider& p) {
  openid_defaults(c, p, c.issuer, {"openid", "profile", "email"});
  if (c.offline_access) {
    add_scope(p.scope, "offline_access");
    p.authorize_params = {{"prompt", "consent"}}; // OIDC Core 11: offline_access needs consent
  }
}

} // namespace

ProviderTypeInfo oidc_type() {
  ProviderTypeInfo t(ProviderType::oidc, "oidc", oidc_defaults, map_oidc_claims, revoke_rfc7009);
  t.config.own_keys = {"issuer", "offline_access"};
  t.config.has_api_url = false;
  t.config.required_keys = {"issuer"};
  t.config.required_fix =
      "type oidc needs issuer = https://..., the URL before /.well-known/openid-configuration";
  return t;
}

} // namespace oauthfcgi
