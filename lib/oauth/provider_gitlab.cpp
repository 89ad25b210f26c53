// Provider type gitlab: GitLab's OpenID Connect, gitlab.com or a self-managed instance
// at base_url, which is also its issuer; revocation is RFC 7009 (revoke.cpp).
// https://docs.gitlab.com/ee/integration/openid_connect_provider.html
#include "provider_types.hpp"

namespace oauthfcgi {
namespace {

void gitlab_defaults(const ProviderConfig& c, Provider& p) {
  openid_defaults(c, p, c.base_url, {"openid", "profile", "email"});
  // GitLab gives a refresh token with every access token and knows no offline_access
  // scope (asking for it fails the sign-in with invalid_scope): offline_access asks
  // for nothing more.
  default_if_empty(p.api_url, c.base_url + "/api/v4");
}

} // namespace

ProviderTypeInfo gitlab_type() {
  ProviderTypeInfo t(ProviderType::gitlab, "gitlab", gitlab_defaults, map_oidc_claims, revoke_rfc7009);
  t.display_name = "GitLab";
  t.config.own_keys = {"base_url"};
  t.config.shared_keys = {"offline_access"};
  t.config.misplaced_fixes = {{"issuer", "gitlab uses base_url"}};
  t.config.default_base_url = "https://gitlab.com";
  return t;
}

} // namespace oauthfcgi
