// Every Redis key name, and the sealing of the values stored under them. No other
// file builds a key string. The Store puts [redis] key_prefix in front of each.
//
//   state:<mac>                  one pending login (sessions.cpp)
//   pending:<mac>                how many logins a browser has pending (sessions.cpp)
//   session:<mac>                one signed-in browser (sessions.cpp)
//   lock:session:<mac>           who may rewrite that session now (refresh.cpp)
//   oidc:discovery:<hash>        an issuer's discovery document (oidc.cpp)
//   oidc:jwks:<hash>             a jwks_uri's key set (oidc.cpp)
//   oidc:jwks_refetch:<hash>     a JWKS refetched lately: not again before its TTL
//   client_token:<mac>           a [client NAME]'s token (token_client.cpp)
//   lock:client_token:<mac>      who is renewing it now
//   client_token_error:<mac>     the last renewal's failure, for those who waited
//
// <mac> is base64url HMAC-SHA256(store_key, ...) of a secret (state, cookie value,
// binding cookie) or of a client's identity, so a Redis dump reveals neither; <hash>
// is base64url SHA-256 of a public URL. Every value read back as trusted is sealed
// with AES-256-GCM, the key name being the associated data, so a record can't be
// moved to another key: secret records, and the OIDC documents too (public, but
// whoever could write Redis would otherwise choose our token endpoint and the keys ID
// tokens are checked with). A value that does not open is absent. Locks, the JWKS
// refetch mark and the pending-login count are not sealed: a forged one can hold a
// request up or refuse a browser's sign-in for a while, never admit one.
//
// A new kind of record (the grants to come) gets its key function here, in the list
// above and in test_store_keys.cpp.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "crypto.hpp"
#include "error.hpp"
#include "store.hpp"

namespace oauthfcgi {

// ---- key names -------------------------------------------------------------------

std::string state_key(const Keys& keys, std::string_view state);
// The counter of a browser's pending logins, named after its binding cookie.
std::string pending_key(const Keys& keys, std::string_view binding_cookie);
std::string session_key(const Keys& keys, std::string_view cookie_value);
std::string session_lock_key(const Keys& keys, std::string_view cookie_value);

std::string discovery_key(std::string_view issuer);
std::string jwks_key(std::string_view jwks_uri);
std::string jwks_refetch_key(std::string_view jwks_uri);

// A [client NAME]'s three keys, named after its name, token_url, client_id and scope.
struct ClientTokenKeys {
  std::string token, lock, error;
};
ClientTokenKeys client_token_keys(const Keys& keys, const ClientConfig& client);

// ---- sealed values ---------------------------------------------------------------

// `plain` sealed for `key`: readable only under that key name and encryption key.
std::string seal(const Keys& keys, std::string_view key, std::string_view plain);
// The value a store call found under `key`, opened. A value that does not open
// (another secret, another key, damaged) is as good as absent: nullopt.
Lookup open_found(const Keys& keys, std::string_view key, Lookup found);

// SET key seal(plain) PX ttl.
Result<void> put_sealed(Store& store, const Keys& keys, std::string_view key, std::string_view plain,
                        std::chrono::milliseconds ttl);
// SET key seal(plain) XX PX ttl: only while key exists; true when written.
Result<bool> rewrite_sealed(Store& store, const Keys& keys, std::string_view key, std::string_view plain,
                            std::chrono::milliseconds ttl);
// GET key, opened.
Lookup get_sealed(Store& store, const Keys& keys, std::string_view key);

} // namespace oauthfcgi
