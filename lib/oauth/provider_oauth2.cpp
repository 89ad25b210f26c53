// Provider type oauth2: plain RFC 6749 with the endpoints the section names; the user
// document read by OIDC or common claim names (profile.cpp) with its email only when
// marked verified (or trust_email), revocation RFC 7009 (revoke.cpp) when the section
// has a revoke_url. What ProviderConfig defaults to.
#include "provider_types.hpp"

namespace oauthfcgi {
namespace {

void oauth2_defaults(const ProviderConfig&, Provider& p) {
  p.api_headers = {{"Accept", "application/json"}};
}

// A plain server's "email" may be whatever the account typed in: it counts only when the
// server marks it verified, by the OIDC name or the one many others use, unless the
// section says trust_email (normalize_profile).
void oauth2_profile(const cJSON* user, Profile& p) {
  map_oidc_claims(user, p);
  p.email_verified = email_verified_by(p.email_verified, json_flag(user, "verified"));
}

} // namespace

ProviderTypeInfo oauth2_type() {
  ProviderTypeInfo t(ProviderType::oauth2, "oauth2", oauth2_defaults, oauth2_profile, revoke_rfc7009);
  t.config.own_keys = {"trust_email"};
  t.config.has_api_url = false;
  t.config.required_keys = {"authorize_url", "token_url", "userinfo_url"};
  t.config.required_fix = "type oauth2 needs authorize_url, token_url and userinfo_url";
  return t;
}

} // namespace oauthfcgi
