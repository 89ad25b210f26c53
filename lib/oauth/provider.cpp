#include "provider.hpp"

namespace oauthfcgi {
namespace {

void default_if_empty(std::string& field, const std::string& value) {
  if (field.empty()) field = value;
}

void add_scope(std::vector<std::string>& scope, const char* value, bool front = false) {
  for (const auto& s : scope)
    if (s == value) return;
  scope.insert(front ? scope.begin() : scope.end(), value);
}

} // namespace

Result<Provider> resolve_provider(const ProviderConfig& c) {
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
  p.scope = c.scope;
  p.pkce = c.pkce;
  p.display_name = c.name;
  switch (c.type) {
  case ProviderType::github:
    // https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
    // GitHub Enterprise Server: override the endpoints (https://HOST/login/oauth/...,
    // https://HOST/api/v3/user).
    default_if_empty(p.authorize_url, "https://github.com/login/oauth/authorize");
    default_if_empty(p.token_url, "https://github.com/login/oauth/access_token");
    default_if_empty(p.userinfo_url, "https://api.github.com/user");
    default_if_empty(p.emails_url, "https://api.github.com/user/emails");
    if (!c.scope_set) p.scope = {"read:user", "user:email"};
    p.api_headers = {{"Accept", "application/vnd.github+json"}, {"X-GitHub-Api-Version", "2022-11-28"}};
    p.hooks = github_hooks();
    p.display_name = "GitHub";
    break;
  case ProviderType::facebook: {
    // https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
    const std::string graph = "https://graph.facebook.com/" + c.graph_version;
    default_if_empty(p.authorize_url, "https://www.facebook.com/" + c.graph_version + "/dialog/oauth");
    default_if_empty(p.token_url, graph + "/oauth/access_token");
    default_if_empty(p.userinfo_url, graph + "/me");
    default_if_empty(p.debug_token_url, graph + "/debug_token");
    default_if_empty(p.revoke_url, graph + "/me/permissions");
    if (!c.scope_set) p.scope = {"email", "public_profile"};
    p.token_request = TokenRequestStyle::get_query;
    p.send_grant_type = false;
    p.api_headers = {{"Accept", "application/json"}};
    p.userinfo_params = {{"fields", "id,name,email,picture"}};
    p.hooks = facebook_hooks();
    p.display_name = "Facebook";
    break;
  }
  case ProviderType::google:
    // https://developers.google.com/identity/openid-connect/openid-connect
    p.openid = true;
    p.issuer = c.issuer.empty() ? "https://accounts.google.com" : c.issuer;
    if (!c.scope_set) p.scope = {"openid", "email", "profile"};
    // Google gives a refresh token only with access_type=offline, and again only on consent.
    if (c.offline_access) p.authorize_params = {{"access_type", "offline"}, {"prompt", "consent"}};
    p.display_name = "Google";
    break;
  case ProviderType::gitlab:
    // https://docs.gitlab.com/ee/integration/openid_connect_provider.html: the issuer is the base URL.
    p.openid = true;
    p.issuer = c.base_url;
    if (!c.scope_set) p.scope = {"openid", "profile", "email"};
    if (c.offline_access) add_scope(p.scope, "offline_access");
    p.display_name = "GitLab";
    break;
  case ProviderType::oidc:
    p.openid = true;
    p.issuer = c.issuer;
    if (!c.scope_set) p.scope = {"openid", "profile", "email"};
    if (c.offline_access) {
      add_scope(p.scope, "offline_access");
      p.authorize_params = {{"prompt", "consent"}}; // OIDC Core 11: offline_access needs consent
    }
    break;
  case ProviderType::oauth2:
    // The config parser already insists on the three endpoints.
    p.api_headers = {{"Accept", "application/json"}};
    break;
  }
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
