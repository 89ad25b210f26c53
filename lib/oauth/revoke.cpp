// Revocation at sign-out: the dispatch to the type's revoke, the redaction of what a
// provider quotes back, and RFC 7009 (oauth2, oidc, gitlab). Why RFC 7009 sends which
// token:
//
// The refresh token when there is a live one, else the access token, with
// token_type_hint, and the provider's client authentication (Basic or client_id +
// client_secret in the form, RFC 6749 2.3.1). One call, not one per token: revoking a
// refresh token SHOULD also invalidate the access tokens of its grant (RFC 7009 2.1) on
// any server that can revoke access tokens at all, and on a server that can't, a second
// call would only get unsupported_token_type. A server that supports no refresh-token
// revocation says unsupported_token_type (2.2.1): then the access token is tried.
#include "revoke.hpp"

#include "flow.hpp"
#include "json.hpp"
#include "provider_types.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

bool success(const HttpResponse& r) {
  return r.status >= 200 && r.status <= 299;
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
  return revocation_refused(p, "answered HTTP " + std::to_string(r.status) + words);
}

HttpRequest rfc7009_request(const Provider& p, const std::string& token, const char* hint) {
  return client_form_post(p.revoke_url, {{"token", token}, {"token_type_hint", hint}}, p.config->client_id,
                          p.config->client_secret, p.basic_auth);
}

} // namespace

bool live_token(const std::string& token, long expires_at, long now) {
  return !token.empty() && (expires_at == 0 || expires_at > now);
}

Error revocation_refused(const Provider& p, const std::string& problem) {
  return make_error(ErrorKind::provider_error, p.name + " revocation endpoint " + problem);
}

Error revocation_transport(const Provider& p, const Error& e) {
  return make_error(e.kind, p.name + " revocation endpoint: " + e.reason);
}

Result<Revocation> send_revocation(HttpClient& http, const Provider& p, const HttpRequest& request) {
  auto response = http.send(request);
  if (!response.ok()) return revocation_transport(p, response.error());
  if (!success(*response)) return answered(p, *response);
  return Revocation::revoked;
}

Result<Revocation> revoke_rfc7009(HttpClient& http, const Provider& p, const TokenSet& t, long now) {
  if (p.revoke_url.empty()) return Revocation::no_endpoint;
  bool refresh = live_token(t.refresh_token, t.refresh_expires_at, now);
  bool access = live_token(t.access_token, t.expires_at, now);
  if (!refresh && !access) return Revocation::no_live_token;
  if (!refresh) return send_revocation(http, p, rfc7009_request(p, t.access_token, "access_token"));
  auto response = http.send(rfc7009_request(p, t.refresh_token, "refresh_token"));
  if (!response.ok()) return revocation_transport(p, response.error());
  if (success(*response)) return Revocation::revoked;
  if (access && response->status == 400 && json_field(*response, "error") == "unsupported_token_type")
    return send_revocation(http, p, rfc7009_request(p, t.access_token, "access_token"));
  return answered(p, *response);
}

const char* revocation_name(Revocation outcome) {
  switch (outcome) {
  case Revocation::revoked: return "revoked";
  case Revocation::no_endpoint: return "no_endpoint";
  case Revocation::no_live_token: return "no_live_token";
  }
  return "unknown";
}

Result<Revocation> revoke_tokens(HttpClient& http, const Provider& p, const TokenSet& tokens, long now) {
  Result<Revocation> outcome = provider_type(p.type).revoke(http, p, tokens, now);
  if (outcome.ok()) return outcome;
  // A provider may quote what it was sent.
  Error e = outcome.error();
  e.reason = redact_values(std::move(e.reason), {tokens.access_token, tokens.refresh_token, tokens.id_token,
                                                 p.config->client_secret});
  return e;
}

} // namespace oauthfcgi
