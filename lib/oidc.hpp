// OpenID Connect (Core 1.0, Discovery 1.0, RFC 9207): the discovery document and
// the JWKS, both cached in Redis with a TTL; ID token validation (signature via
// jose.hpp, then iss, aud/azp, exp/iat, nonce); the profile from the claims and
// userinfo.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "error.hpp"
#include "http_client.hpp"
#include "json.hpp"
#include "profile.hpp"
#include "provider.hpp"
#include "store.hpp"
#include "tokens.hpp"

namespace oauthfcgi {

constexpr std::chrono::seconds kDiscoveryTtl{3600};
constexpr std::chrono::seconds kJwksTtl{3600};
// An unknown kid refetches the JWKS at most this often per jwks_uri (key rotation,
// without letting forged kids hammer the server).
constexpr std::chrono::seconds kJwksRefetchInterval{60};
constexpr long kClockSkew = 60; // seconds allowed on exp and iat

// Reads issuer + /.well-known/openid-configuration (from Redis when cached), checks
// that its issuer is ours exactly, and fills the endpoints the config didn't set,
// jwks_uri, the RFC 9207 flag, the ID token algorithms and the client auth method.
Result<void> discover(Provider& provider, Store& store, HttpClient& http);

// Checks a parsed discovery document against the provider and applies it.
Result<void> apply_discovery(Provider& provider, const cJSON* document);

// The ID token: signature against the issuer's JWKS (refetched once on an unknown
// kid), then the claims. Returns the claims.
Result<Json> verify_id_token(const Provider& provider, Store& store, HttpClient& http,
                             std::string_view id_token, std::string_view nonce, long now);

// The claims alone (OIDC Core 3.1.3.7): iss, sub, aud (and azp when several
// audiences, or whenever present), exp and iat within kClockSkew, nonce.
Result<void> check_id_token_claims(const cJSON* claims, const std::string& issuer,
                                   const std::string& client_id, std::string_view nonce, long now);

// The user from the ID token's claims and, when the server has one, userinfo (whose
// sub must be the ID token's). Email only when email_verified is not false.
Result<Profile> oidc_profile(HttpClient& http, const Provider& provider, TokenSet& tokens,
                             const cJSON* claims);

} // namespace oauthfcgi
