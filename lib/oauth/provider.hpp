// A provider as the flow uses it, as data: endpoints, default scope, the shape of its
// token request, and a few hooks for the quirks data can't say. Resolved once from the
// config with its type's row (provider_types.hpp); flow.cpp runs the steps.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "http_client.hpp"

namespace oauthfcgi {

struct Provider;
struct Profile;
struct TokenSet;

// Quirks as small functions. nullptr = the provider behaves like plain OAuth2 there.
struct ProviderHooks {
  // A provider-specific error in an answer (rate limits, Graph API errors), read
  // before the generic checks. `what` names the endpoint for the reason.
  std::optional<Error> (*answer_error)(const Provider&, const HttpResponse&, std::string_view what) = nullptr;
  // After the code exchange, before the user is fetched (Facebook: long-lived
  // token, debug_token). May replace or annotate the tokens.
  Result<void> (*finish_tokens)(HttpClient&, const Provider&, TokenSet&, long now) = nullptr;
  // Adds what every API call with the user's token must carry (Facebook: appsecret_proof).
  void (*sign_api_request)(const Provider&, const TokenSet&, HttpRequest&) = nullptr;
  // Fills what the user document lacks (GitHub: the email from /user/emails).
  void (*complete_profile)(HttpClient&, const Provider&, const HttpRequest& user_request, Profile&) = nullptr;
};

enum class TokenRequestStyle {
  post_form, // RFC 6749: POST application/x-www-form-urlencoded
  get_query, // Facebook: GET with the parameters in the query
};

struct Provider {
  std::string name;
  ProviderType type = ProviderType::oauth2;
  const ProviderConfig* config = nullptr; // client_id, client_secret, access rules
  std::string authorize_url, token_url, userinfo_url, emails_url, revoke_url, debug_token_url;
  std::vector<std::string> scope;
  bool pkce = true;
  TokenRequestStyle token_request = TokenRequestStyle::post_form;
  // Client authentication at the token endpoint: HTTP Basic (client_secret_basic)
  // instead of client_id + client_secret in the form (client_secret_post).
  bool basic_auth = false;
  // More authorize parameters (Google: access_type=offline, prompt=consent).
  Params authorize_params;
  // ---- OpenID Connect (oidc, google, gitlab): filled by discover() in oidc.cpp ----
  bool openid = false; // ID token required, nonce sent, endpoints from discovery
  std::string issuer;  // exact; the discovery document and every ID token must say it
  std::string jwks_uri;
  bool iss_parameter_supported = false;   // RFC 9207: the authorize response carries iss
  std::vector<std::string> id_token_algs; // what we accept of what the server signs with
  // Send grant_type=authorization_code with the code (Facebook's documented request has none).
  bool send_grant_type = true;
  // Headers every API call to this provider carries (GitHub wants its Accept and version).
  Headers api_headers;
  // The base oauth-api relays to: the section's api_url, else the type's API; empty:
  // none (oauth2, oidc without api_url).
  std::string api_url;
  // Query parameters of the user document request (Facebook: fields=...).
  Params userinfo_params;
  ProviderHooks hooks;
  // Human name for pages: "GitHub", or the section name for generic types.
  std::string display_name;
};

// Applies the type's defaults to a [provider NAME] section. OpenID Connect types
// still need discover() (oidc.hpp) for their endpoints.
// The Provider points into `config`, which must outlive it.
Result<Provider> resolve_provider(const ProviderConfig& config);
Result<Provider> resolve_provider(ProviderConfig&&) = delete;

// redirect_uri = public_url + route_prefix + "/callback/" + name, exactly.
std::string redirect_uri(const Config& config, const std::string& provider_name);

// For the types' apply_defaults (provider_<name>.cpp).
void default_if_empty(std::string& field, const std::string& value);
// Adds `value` to `scope` unless it is there, at the end or at the front.
void add_scope(std::vector<std::string>& scope, const char* value, bool front = false);
// What google, gitlab and oidc share: OpenID Connect at `issuer` (endpoints from
// discovery), asking for `scope` unless the section sets one.
void openid_defaults(const ProviderConfig& config, Provider& provider, const std::string& issuer,
                     std::vector<std::string> scope);

} // namespace oauthfcgi
