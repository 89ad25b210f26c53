// Revocation at sign-out. Which token goes where, and why:
//
// RFC 7009 (oauth2, oidc, gitlab): the refresh token when there is a live one, else the
// access token, with token_type_hint, and the provider's client authentication (Basic
// or client_id + client_secret in the form, RFC 6749 2.3.1). One call, not one per
// token: revoking a refresh token SHOULD also invalidate the access tokens of its grant
// (RFC 7009 2.1) on any server that can revoke access tokens at all, and on a server
// that can't, a second call would only get unsupported_token_type. A server that
// supports no refresh-token revocation says unsupported_token_type (2.2.1): then the
// access token is tried.
//
// Google (https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke):
// POST token=… as a form, no client authentication; an access token with a refresh token
// behind it revokes that too, so either ends the grant. The refresh token is preferred
// because it outlives the access token.
//
// GitHub (https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token):
// DELETE /applications/{client_id}/token with Basic client_id:client_secret and
// {"access_token": "…"}; 204 when done. Only the token goes, not the user's
// authorization of the app (that is DELETE …/grant, which would force a new consent).
//
// Facebook (https://developers.facebook.com/docs/graph-api/reference/user/permissions/):
// DELETE /me/permissions with the user's token (and appsecret_proof, like every Graph
// call) deauthorizes the app: every token of that user for the app stops working.
#include "revoke.hpp"

#include "flow.hpp"
#include "json.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

bool live(const std::string& token, long expires_at, long now) {
  return !token.empty() && (expires_at == 0 || expires_at > now);
}

bool success(const HttpResponse& r) {
  return r.status >= 200 && r.status <= 299;
}

Error refused(const Provider& p, const std::string& problem) {
  return make_error(ErrorKind::provider_error, p.name + " revocation endpoint " + problem);
}

// A transport error (timeout, unreachable), prefixed with what we were doing; its kind stays.
Error transport(const Provider& p, const Error& e) {
  return make_error(e.kind, p.name + " revocation endpoint: " + e.reason);
}

// RFC 7009's {"error","error_description"} or GitHub's {"message"}, if the answer has them.
std::optional<std::string> json_field(const HttpResponse& r, const char* key) {
  auto json = json_parse(r.body);
  if (!json.ok() || !cJSON_IsObject(json->get())) return std::nullopt;
  return json_string(json->get(), key);
}

Error answered(const Provider& p, const HttpResponse& r) {
  std::string words;
  for (const char* key : {"error", "message"})
    if (auto text = json_field(r, key); text && !text->empty()) {
      words = ": " + printable_excerpt(*text, 64);
      break;
    }
  if (auto description = json_field(r, "error_description"); description && !description->empty())
    words += " (" + printable_excerpt(*description, 120) + ")";
  return refused(p, "answered HTTP " + std::to_string(r.status) + words);
}

Result<Revocation> send_expecting_2xx(HttpClient& http, const Provider& p, const HttpRequest& request) {
  auto response = http.send(request);
  if (!response.ok()) return transport(p, response.error());
  if (!success(*response)) return answered(p, *response);
  return Revocation::revoked;
}

HttpRequest rfc7009_request(const Provider& p, const std::string& token, const char* hint) {
  return client_form_post(p.revoke_url, {{"token", token}, {"token_type_hint", hint}}, p.config->client_id,
                          p.config->client_secret, p.basic_auth);
}

Result<Revocation> revoke_rfc7009(HttpClient& http, const Provider& p, const TokenSet& t, long now) {
  bool refresh = live(t.refresh_token, t.refresh_expires_at, now);
  bool access = live(t.access_token, t.expires_at, now);
  if (!refresh && !access) return Revocation::no_live_token;
  if (!refresh) return send_expecting_2xx(http, p, rfc7009_request(p, t.access_token, "access_token"));
  auto response = http.send(rfc7009_request(p, t.refresh_token, "refresh_token"));
  if (!response.ok()) return transport(p, response.error());
  if (success(*response)) return Revocation::revoked;
  if (access && response->status == 400 && json_field(*response, "error") == "unsupported_token_type")
    return send_expecting_2xx(http, p, rfc7009_request(p, t.access_token, "access_token"));
  return answered(p, *response);
}

Result<Revocation> revoke_google(HttpClient& http, const Provider& p, const TokenSet& t, long now) {
  const std::string* token = live(t.refresh_token, t.refresh_expires_at, now) ? &t.refresh_token
                             : live(t.access_token, t.expires_at, now)        ? &t.access_token
                                                                              : nullptr;
  if (!token) return Revocation::no_live_token;
  return send_expecting_2xx(http, p, http_post_form(p.revoke_url, {{"token", *token}}));
}

Result<Revocation> revoke_github(HttpClient& http, const Provider& p, const TokenSet& t, long now) {
  if (!live(t.access_token, t.expires_at, now)) return Revocation::no_live_token;
  HttpRequest request;
  request.method = "DELETE";
  request.url = github_revoke_url(p);
  request.headers = p.api_headers; // Accept: application/vnd.github+json, X-GitHub-Api-Version
  request.headers.emplace_back("Content-Type", "application/json");
  Json body = json_object();
  json_set_string(body.get(), "access_token", t.access_token);
  request.body = json_print(body.get());
  // Plain HTTP Basic as the app. (The client sends both form-encoded, RFC 6749 2.3.1,
  // which changes nothing for GitHub's client ids and hex secrets.)
  request.basic_user = p.config->client_id;
  request.basic_password = p.config->client_secret;
  return send_expecting_2xx(http, p, request);
}

Result<Revocation> revoke_facebook(HttpClient& http, const Provider& p, const TokenSet& t, long now) {
  if (!live(t.access_token, t.expires_at, now)) return Revocation::no_live_token;
  // The Graph call every other one is: Bearer, Accept, appsecret_proof.
  HttpRequest request = api_request(p, t, p.revoke_url);
  request.method = "DELETE";
  auto response = http.send(request);
  if (!response.ok()) return transport(p, response.error());
  auto answer = json_answer(p, *response, "revocation endpoint");
  if (!answer.ok()) return answer.error();
  if (json_bool(answer->get(), "success") != std::optional<bool>(true))
    return refused(p, "did not answer success: true");
  return Revocation::revoked;
}

} // namespace

const char* revocation_name(Revocation outcome) {
  switch (outcome) {
  case Revocation::revoked: return "revoked";
  case Revocation::no_endpoint: return "no_endpoint";
  case Revocation::no_live_token: return "no_live_token";
  }
  return "unknown";
}

std::string github_revoke_url(const Provider& p) {
  if (!p.revoke_url.empty()) return p.revoke_url;
  const std::string suffix = "/user";
  if (!ends_with(p.userinfo_url, suffix)) return {};
  std::string base = p.userinfo_url.substr(0, p.userinfo_url.size() - suffix.size());
  return base + "/applications/" + url_encode(p.config->client_id) + "/token";
}

Result<Revocation> revoke_tokens(HttpClient& http, const Provider& p, const TokenSet& tokens, long now) {
  bool has_endpoint = p.type == ProviderType::github ? !github_revoke_url(p).empty() : !p.revoke_url.empty();
  if (!has_endpoint) return Revocation::no_endpoint;
  Result<Revocation> outcome = Revocation::no_live_token;
  switch (p.type) {
  case ProviderType::github: outcome = revoke_github(http, p, tokens, now); break;
  case ProviderType::facebook: outcome = revoke_facebook(http, p, tokens, now); break;
  case ProviderType::google: outcome = revoke_google(http, p, tokens, now); break;
  case ProviderType::gitlab:
  case ProviderType::oidc:
  case ProviderType::oauth2: outcome = revoke_rfc7009(http, p, tokens, now); break;
  }
  if (outcome.ok()) return outcome;
  // A provider may quote what it was sent.
  Error e = outcome.error();
  e.reason = redact_values(std::move(e.reason), {tokens.access_token, tokens.refresh_token, tokens.id_token,
                                                 p.config->client_secret});
  return e;
}

} // namespace oauthfcgi
