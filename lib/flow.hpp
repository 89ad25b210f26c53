// The OAuth2 authorization-code flow with PKCE, step by step: the authorize URL,
// the code exchange, and fetching the user. No I/O but through HttpClient.
#pragma once

#include <string>

#include "error.hpp"
#include "http_client.hpp"
#include "profile.hpp"
#include "provider.hpp"
#include "sessions.hpp"

namespace oauthfcgi {

struct Pkce {
  std::string verifier;  // 43 chars of base64url (256 bits)
  std::string challenge; // BASE64URL(SHA256(verifier)), method S256
};
Pkce new_pkce();

Result<std::string> authorize_url(const Provider& provider, const std::string& redirect_uri,
                                  const std::string& state, const std::string& code_challenge);

// POSTs the code (client_id + client_secret in the form, Accept: application/json)
// and reads the answer, JSON or form-encoded. An "error" field fails even with 200.
Result<TokenSet> exchange_code(HttpClient& http, const Provider& provider, const std::string& redirect_uri,
                               const std::string& code, const std::string& verifier, long now);

// The token endpoint's answer -> TokenSet, or a provider_error naming what was wrong.
Result<TokenSet> parse_token_response(const Provider& provider, const HttpResponse& response, long now);

// GETs the user document (Authorization: Bearer) and normalises it; for GitHub,
// a missing public email is filled from /user/emails (primary and verified).
Result<Profile> fetch_profile(HttpClient& http, const Provider& provider, const TokenSet& tokens);

long unix_now();

} // namespace oauthfcgi
