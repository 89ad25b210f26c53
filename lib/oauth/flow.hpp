// The OAuth2 authorization-code flow with PKCE, step by step: the authorize URL,
// the code exchange, and fetching the user. Provider quirks come in through
// Provider::hooks; no I/O but through HttpClient.
#pragma once

#include <string>
#include <string_view>

#include "clock.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "json.hpp"
#include "profile.hpp"
#include "provider.hpp"
#include "tokens.hpp"

namespace oauthfcgi {

struct Pkce {
  std::string verifier;  // 43 chars of base64url (256 bits)
  std::string challenge; // BASE64URL(SHA256(verifier)), method S256
};
// The verifier: 32 bytes of `random`.
Pkce new_pkce(const Random& random);

// nonce: OpenID Connect only ("" = none sent).
Result<std::string> authorize_url(const Provider& provider, const std::string& redirect_uri,
                                  const std::string& state, const std::string& code_challenge,
                                  const std::string& nonce = "");

// Exchanges the code (POST form, or GET for Facebook; Accept: application/json) and
// runs the provider's finish_tokens hook. Errors never quote the code, verifier or secret.
Result<TokenSet> exchange_code(HttpClient& http, const Provider& provider, const std::string& redirect_uri,
                               const std::string& code, const std::string& verifier, long now);

// The token endpoint's answer (JSON, or the older form encoding) -> TokenSet, or a
// provider_error naming what was wrong. An "error" field fails even with HTTP 200.
// `what` names the call in reasons.
Result<TokenSet> parse_token_response(const Provider& provider, const HttpResponse& response, long now,
                                      std::string_view what = "token endpoint");

// GETs the user document with the token and normalises it; hooks fill what it lacks.
// When tokens.subject is set, the document's id must equal it. A 401 is
// ErrorKind::token_rejected (the token may be refreshed and the call tried again).
Result<Profile> fetch_profile(HttpClient& http, const Provider& provider, const TokenSet& tokens);

// True when the provider takes a refresh grant (not Facebook) and the tokens hold a
// refresh token not known to have expired.
bool refreshable(const Provider& provider, const TokenSet& tokens, long now);

// RFC 6749 6: POSTs grant_type=refresh_token to the token endpoint, with the client
// authentication of the code exchange. What the answer leaves out is kept from `old`:
// the refresh token and its expiry (servers that do not rotate, like Google), the
// scope, the ID token (the caller verifies a new one: OIDC Core 12.2).
// invalid_grant (GitHub: bad_refresh_token), or nothing to refresh with, is
// ErrorKind::unauthenticated: the provider ended the sign-in. Reasons never quote a
// token or the secret.
Result<TokenSet> refresh_tokens(HttpClient& http, const Provider& provider, const TokenSet& old, long now);

// ---- pieces the provider hooks share ----

// A provider answer that must be a JSON object: the answer_error hook first, then the
// HTTP status (with the provider's own message when it gave one; 401 is
// token_rejected), then HTML or junk.
Result<Json> json_answer(const Provider& provider, const HttpResponse& response, std::string_view what);
// A form POST to a token or revocation endpoint (Accept: application/json) with the
// client's authentication, RFC 6749 2.3.1: HTTP Basic when `basic`, else client_id and
// client_secret appended to the form; never both.
HttpRequest client_form_post(const std::string& url, Params form, const std::string& client_id,
                             const std::string& client_secret, bool basic);
// GET url?params to the provider's API with the user's token: Bearer, the type's
// headers, and its signature hook.
HttpRequest api_request(const Provider& provider, const TokenSet& tokens, const std::string& url,
                        const Params& params = {});
// Content-Type without parameters, lower case.
std::string content_type(const HttpResponse& response);

} // namespace oauthfcgi
