// Provider type facebook: Facebook Login and the Graph API, from its manual-flow,
// access-token and Graph API docs: its endpoints (following graph_version), Graph's
// error objects, the long-lived token exchange right after login, debug_token for
// validity and expiry, appsecret_proof on every call with the user's token, the /me
// document, and revocation.
// https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow
#include "provider_facebook.hpp"

#include "crypto.hpp"
#include "flow.hpp"
#include "provider_types.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

// https://developers.facebook.com/docs/graph-api/guides/error-handling
std::string graph_hint(long code, long subcode) {
  if (code == 190) return "the access token is invalid or expired";
  if (code == 4 || code == 17 || code == 32 || code == 613) return "Graph API rate limit reached";
  if (code == 100 && subcode == 36007) return "the authorization code has expired";
  if (code == 100 && subcode == 36008) return "redirect_uri differs from the one sent to the login dialog";
  if (code == 100 && subcode == 36009) return "the authorization code was already used";
  if (code == 1 || code == 101) return "the app id or secret is wrong (check client_id and client_secret)";
  if (code == 10 || (code >= 200 && code <= 299)) return "permission denied";
  return "Graph API error";
}

// {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}, any status.
std::optional<Error> graph_answer_error(const Provider& p, const HttpResponse& r, std::string_view what) {
  auto json = json_parse(r.body);
  if (!json.ok()) return std::nullopt;
  const cJSON* error = cJSON_GetObjectItemCaseSensitive(json->get(), "error");
  if (!cJSON_IsObject(error)) return std::nullopt;
  long code = json_integer(error, "code").value_or(0);
  long subcode = json_integer(error, "error_subcode").value_or(0);
  std::string reason = p.name + " " + std::string(what) + ": " + graph_hint(code, subcode) +
                       " (Graph error " + std::to_string(code);
  if (subcode) reason += "/" + std::to_string(subcode);
  if (auto type = json_string(error, "type")) reason += " " + printable_excerpt(*type, 32);
  reason += ")";
  if (auto message = json_string(error, "message")) reason += ": " + printable_excerpt(*message, 120);
  return make_error(ErrorKind::provider_error, reason);
}

Result<HttpResponse> graph_get(HttpClient& http, const std::string& url, const Params& params) {
  auto full = append_query(url, params);
  if (!full.ok()) return full.error();
  return http.send(http_get(*full, {{"Accept", "application/json"}}));
}

// https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
Result<void> exchange_for_long_lived(HttpClient& http, const Provider& p, TokenSet& t, long now) {
  auto response = graph_get(http, p.token_url,
                            {{"grant_type", "fb_exchange_token"},
                             {"client_id", p.config->client_id},
                             {"client_secret", p.config->client_secret},
                             {"fb_exchange_token", t.access_token}});
  if (!response.ok()) return response.error();
  auto long_lived = parse_token_response(p, *response, now, "long-lived token exchange");
  if (!long_lived.ok()) return long_lived.error();
  t.access_token = long_lived->access_token;
  t.expires_at = long_lived->expires_at;
  return {};
}

// https://developers.facebook.com/docs/graph-api/reference/debug_token
// The token must be a valid user token of this app; its expiry, scopes and user are kept.
Result<void> read_debug_token(HttpClient& http, const Provider& p, TokenSet& t) {
  if (p.debug_token_url.empty()) return {};
  const std::string app_token = p.config->client_id + "|" + p.config->client_secret;
  auto response = graph_get(http, p.debug_token_url,
                            {{"input_token", t.access_token},
                             {"access_token", app_token},
                             {"appsecret_proof", appsecret_proof(p.config->client_secret, app_token)}});
  if (!response.ok()) return response.error();
  auto answer = json_answer(p, *response, "debug_token");
  if (!answer.ok()) return answer.error();
  const cJSON* data = cJSON_GetObjectItemCaseSensitive(answer->get(), "data");
  auto refuse = [&](const std::string& why) {
    return make_error(ErrorKind::provider_error, p.name + " debug_token: " + why);
  };
  if (!cJSON_IsObject(data)) return refuse("answered without data");
  if (const cJSON* error = cJSON_GetObjectItemCaseSensitive(data, "error"); cJSON_IsObject(error)) {
    long code = json_integer(error, "code").value_or(0);
    return refuse("the token is not valid (Graph error " + std::to_string(code) + ": " +
                  printable_excerpt(json_string(error, "message").value_or(""), 120) + ")");
  }
  if (json_bool(data, "is_valid") != std::optional<bool>(true)) return refuse("the token is not valid");
  if (json_id(data, "app_id") != std::optional<std::string>(p.config->client_id))
    return refuse("the token was issued to another app");
  if (auto type = json_string(data, "type"); type && *type != "USER")
    return refuse("the token is not a user token");
  auto user = json_id(data, "user_id");
  if (!user || user->empty()) return refuse("answered without user_id");
  t.subject = *user;
  // 0 means "never expires" to Graph; keep what the exchange said then.
  if (long expires = json_integer(data, "expires_at").value_or(0); expires > 0) t.expires_at = expires;
  if (const cJSON* scopes = cJSON_GetObjectItemCaseSensitive(data, "scopes"); cJSON_IsArray(scopes)) {
    std::vector<std::string> granted;
    const cJSON* s = nullptr;
    cJSON_ArrayForEach(s, scopes) {
      if (cJSON_IsString(s)) granted.emplace_back(s->valuestring);
    }
    t.scope = join_scopes(granted);
  }
  return {};
}

Result<void> facebook_finish_tokens(HttpClient& http, const Provider& p, TokenSet& t, long now) {
  if (auto r = exchange_for_long_lived(http, p, t, now); !r.ok()) return r;
  return read_debug_token(http, p, t);
}

void facebook_sign(const Provider& p, const TokenSet& t, HttpRequest& request) {
  auto signed_url = append_query(
      request.url, {{"appsecret_proof", appsecret_proof(p.config->client_secret, t.access_token)}});
  if (signed_url.ok()) request.url = *signed_url;
}

void facebook_defaults(const ProviderConfig& c, Provider& p) {
  const std::string graph = "https://graph.facebook.com/" + c.graph_version;
  default_if_empty(p.authorize_url, "https://www.facebook.com/" + c.graph_version + "/dialog/oauth");
  default_if_empty(p.token_url, graph + "/oauth/access_token");
  default_if_empty(p.userinfo_url, graph + "/me");
  default_if_empty(p.debug_token_url, graph + "/debug_token");
  default_if_empty(p.revoke_url, graph + "/me/permissions");
  default_if_empty(p.api_url, graph);
  if (!c.scope_set) p.scope = {"email", "public_profile"};
  p.token_request = TokenRequestStyle::get_query;
  p.send_grant_type = false;
  p.api_headers = {{"Accept", "application/json"}};
  p.userinfo_params = {{"fields", "id,name,email,picture"}};
}

// Graph /me?fields=id,name,email,picture: no login name since Graph v2.0.
void facebook_profile(const cJSON* user, Profile& p) {
  p.id = json_id(user, "id").value_or("");
  p.name = first_string(user, {"name"});
  p.email = first_string(user, {"email"});
  // Graph gives email only for a confirmed address ("not returned if no valid email
  // address is available"), and has no verified flag to read.
  p.email_verified = true;
  const cJSON* picture = cJSON_GetObjectItemCaseSensitive(user, "picture");
  if (const cJSON* data = cJSON_GetObjectItemCaseSensitive(picture, "data"); cJSON_IsObject(data))
    p.avatar_url = first_string(data, {"url"});
}

// https://developers.facebook.com/docs/graph-api/reference/user/permissions/
// DELETE /me/permissions with the user's token (and appsecret_proof, like every Graph
// call) deauthorizes the app: every token of that user for the app stops working.
Result<Revocation> revoke_facebook(HttpClient& http, const Provider& p, const TokenSet& t, long now) {
  if (p.revoke_url.empty()) return Revocation::no_endpoint;
  if (!live_token(t.access_token, t.expires_at, now)) return Revocation::no_live_token;
  // The Graph call every other one is: Bearer, Accept, appsecret_proof.
  HttpRequest request = api_request(p, t, p.revoke_url);
  request.method = "DELETE";
  auto response = http.send(request);
  if (!response.ok()) return revocation_transport(p, response.error());
  auto answer = json_answer(p, *response, "revocation endpoint");
  if (!answer.ok()) return answer.error();
  if (json_bool(answer->get(), "success") != std::optional<bool>(true))
    return revocation_refused(p, "did not answer success: true");
  return Revocation::revoked;
}

} // namespace

std::string appsecret_proof(std::string_view app_secret, std::string_view access_token) {
  return hex_encode(hmac_sha256(app_secret, access_token));
}

ProviderTypeInfo facebook_type() {
  ProviderTypeInfo t(ProviderType::facebook, "facebook", facebook_defaults, facebook_profile,
                     revoke_facebook);
  t.display_name = "Facebook";
  t.config.own_keys = {"graph_version"};
  t.hooks.answer_error = graph_answer_error;
  t.hooks.finish_tokens = facebook_finish_tokens;
  t.hooks.sign_api_request = facebook_sign;
  return t;
}

} // namespace oauthfcgi
