// JWS (RFC 7515 compact) and JWK (RFC 7517) for verifying ID tokens, over OpenSSL 3 EVP.
// Only asymmetric signatures: "none" and HMAC are refused whatever the caller allows,
// and keys come only from the JWK set passed in, never from the token (jku, jwk, x5u, x5c).
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "json.hpp"

namespace oauthfcgi {

constexpr size_t kMaxJwsSize = 16 * 1024;   // a compact JWS longer than this is refused
constexpr size_t kMaxJwksSize = 256 * 1024; // a JWK set document longer than this is refused

struct Jws {                 // parsed, NOT yet trusted
  std::string alg, kid, typ; // from the protected header ("" when absent)
  Json header, payload;      // the decoded JSON objects
  std::string signing_input; // ASCII base64url(header) "." base64url(payload), as received
  std::string signature;     // raw decoded bytes
};

// Parses a compact JWS: exactly 3 dot-separated base64url (no padding) parts; header and
// payload must be JSON objects; header must have a string "alg"; "crit" present = refused;
// 5 parts (JWE) refused with a reason saying encrypted ID tokens are not supported; total
// size cap 16 KiB. Reasons never quote the token.
// Also refused: non-canonical base64url, duplicate member names in header or payload, and
// a "kid" or "typ" that is not a string.
Result<Jws> parse_jws(std::string_view compact);

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using EvpPkey = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// One usable public key of a JWK set.
struct Jwk {
  std::string kty; // "RSA", "EC" or "OKP"
  std::string crv; // "P-256", "P-384", "P-521", "Ed25519"; "" for RSA
  std::string kid; // "" when absent
  std::string alg; // the key's own "alg", "" when absent
  int bits = 0;    // RSA modulus or curve size
  EvpPkey key;
};

class JwkSet {
public:
  // Parses {"keys":[...]}: keeps RSA (n,e; modulus >= 2048 bits) and EC P-256/P-384/P-521 (crv,x,y)
  // keys, and OKP Ed25519 (crv,x); skips (does not fail on) keys with "use" other than "sig",
  // "key_ops" without "verify", unknown kty/crv (so every symmetric "oct" key), an "alg" that
  // does not fit the key, or malformed members — but fails when nothing usable remains.
  // Keeps kid and optional "alg" of each key.
  static Result<JwkSet> parse(std::string_view json);
  size_t size() const { return keys_.size(); }
  const std::vector<Jwk>& keys() const { return keys_; }
  // True when some key could verify this token: matching kid (when the token has a kid), key
  // type fitting alg, and the key's own "alg" (if any) equal to the token's alg. Used to decide
  // whether to refetch the JWKS.
  bool has_key_for(const Jws& jws) const;

  JwkSet(JwkSet&&) noexcept = default;
  JwkSet& operator=(JwkSet&&) noexcept = default;
  JwkSet(const JwkSet&) = delete;
  JwkSet& operator=(const JwkSet&) = delete;

private:
  JwkSet() = default;
  std::vector<Jwk> keys_;
};

// Verifies the signature. alg must be in `allowed` (e.g. {"RS256","PS256","ES256"} plus 384/512
// variants, "EdDSA"); "none" and every HS* are ALWAYS refused, whatever `allowed` says. Key
// selection: by kid when the token has one; without a kid, every key that fits alg is tried.
// RS*: RSASSA-PKCS1-v1_5; PS*: RSASSA-PSS, MGF1 of the same hash, salt length = hash length;
// ES256/384/512: raw r||s of exactly 2*field bytes on P-256/P-384/P-521; EdDSA: Ed25519.
// Any failure -> ErrorKind::provider_error with a reason naming what failed, never the token.
Result<void> verify_jws(const Jws& jws, const JwkSet& keys, const std::vector<std::string>& allowed);

} // namespace oauthfcgi
