// Crypto over OpenSSL 3 EVP only. Byte strings are std::string (may hold NULs).
#pragma once

#include <string>
#include <string_view>

#include "error.hpp"

namespace oauthfcgi {

// n bytes from the OpenSSL CSPRNG. Draws up to 64 bytes come from a per-thread pool
// that one RAND_bytes fills 512 bytes at a time; no byte is handed out twice, and a
// forked child discards its copy of the pool. Aborts if the CSPRNG fails: there is no
// safe fallback.
std::string random_bytes(size_t n);

std::string base64url_encode(std::string_view bytes);        // no padding
Result<std::string> base64url_decode(std::string_view text); // padding optional
std::string base64_encode(std::string_view bytes);           // standard, padded
Result<std::string> base64_decode(std::string_view text);
std::string hex_encode(std::string_view bytes); // lower case

std::string sha256(std::string_view data);                            // 32 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data); // 32 raw bytes
// RFC 5869 HKDF-SHA256.
std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info, size_t length);

// AES-256-GCM. seal: nonce(12) || ciphertext || tag(16); aad is authenticated, not stored.
std::string aes256gcm_seal(std::string_view key32, std::string_view plaintext, std::string_view aad = {});
Result<std::string> aes256gcm_open(std::string_view key32, std::string_view sealed,
                                   std::string_view aad = {});

bool constant_time_equal(std::string_view a, std::string_view b);

// Keys derived once from secret_file with HKDF, one per purpose.
struct Keys {
  std::string cookie;     // HMAC key for binding values and state MACs
  std::string store_key;  // HMAC key that turns cookie values into Redis key names
  std::string encryption; // AES-256-GCM key for tokens at rest
};
Keys derive_keys(std::string_view secret);

} // namespace oauthfcgi
