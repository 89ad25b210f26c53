// Provider type google: Google's OpenID Connect (endpoints from discovery), the offline
// access it asks for its own way, and its revocation endpoint.
// https://developers.google.com/identity/openid-connect/openid-connect
#include "provider_types.hpp"

namespace oauthfcgi {
namespace {

void google_defaults(const ProviderConfig& c, Provider& p) {
  openid_defaults(c, p, c.issuer.empty() ? "https://accounts.google.com" : c.issuer,
                  {"openid", "email", "profile"});
  default_if_empty(p.api_url, "https://www.googleapis.com");
  // Google gives a refresh token only with access_type=offline, and again only on consent.
  if (c.offline_access) p.authorize_params = {{"access_type", "offline"}, {"prompt", "consent"}};
}

// https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
// POST token=… as a form, no client authentication; an access token with a refresh token
// behind it revokes that too, so either ends the grant. The refresh token is preferred
// because it outlives the access token.
Result<Revocation> revoke_google(HttpClient& http, const Provider& p, const TokenSet& t, long now) {
  if (p.revoke_url.empty()) return Revocation::no_endpoint;
  const std::string* token = live_token(t.refresh_token, t.refresh_expires_at, now) ? &t.refresh_token
                             : live_token(t.access_token, t.expires_at, now)        ? &t.access_token
                                                                                    : nullptr;
  if (!token) return Revocation::no_live_token;
  return send_revocation(http, p, http_post_form(p.revoke_url, {{"token", *token}}));
}

} // namespace

ProviderTypeInfo google_type() {
  ProviderTypeInfo t(ProviderType::google, "google", google_defaults, map_oidc_claims, revoke_google);
  t.display_name = "Google";
  t.config.shared_keys = {"issuer", "offline_access"};
  return t;
}

} // namespace oauthfcgi
