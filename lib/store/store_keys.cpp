// The Redis key names and the sealing of stored values (the schema is in store_keys.hpp).
#include "store_keys.hpp"

#include "tokens.hpp"

namespace oauthfcgi {
namespace {

// base64url HMAC-SHA256(store_key, input): a key name part that reveals nothing.
std::string mac(const Keys& keys, std::string_view input) {
  return base64url_encode(hmac_sha256(keys.store_key, input));
}

// kind:<mac of kind, NUL, value>: states and sessions.
std::string secret_name(const Keys& keys, std::string_view kind, std::string_view value) {
  std::string input(kind);
  input.push_back('\0');
  input.append(value);
  return std::string(kind) + ":" + mac(keys, input);
}

// oidc:kind:<SHA-256 of url>: public documents, one per URL.
std::string oidc_name(std::string_view kind, std::string_view url) {
  return "oidc:" + std::string(kind) + ":" + base64url_encode(sha256(url));
}

constexpr std::string_view kLock = "lock:";

} // namespace

std::string state_key(const Keys& keys, std::string_view state) {
  return secret_name(keys, "state", state);
}

std::string pending_key(const Keys& keys, std::string_view binding_cookie) {
  return secret_name(keys, "pending", binding_cookie);
}

std::string session_key(const Keys& keys, std::string_view cookie_value) {
  return secret_name(keys, "session", cookie_value);
}

std::string session_lock_key(const Keys& keys, std::string_view cookie_value) {
  return std::string(kLock) + session_key(keys, cookie_value);
}

std::string discovery_key(std::string_view issuer) {
  return oidc_name("discovery", issuer);
}

std::string jwks_key(std::string_view jwks_uri) {
  return oidc_name("jwks", jwks_uri);
}

std::string jwks_refetch_key(std::string_view jwks_uri) {
  return oidc_name("jwks_refetch", jwks_uri);
}

ClientTokenKeys client_token_keys(const Keys& keys, const ClientConfig& client) {
  std::string id;
  for (const std::string* part : {&client.name, &client.token_url, &client.client_id})
    id += *part + '\0';
  id += join_scopes(client.scope);
  const std::string m = mac(keys, "client_token:" + id);
  ClientTokenKeys out;
  out.token = "client_token:" + m;
  out.lock = std::string(kLock) + out.token;
  out.error = "client_token_error:" + m;
  return out;
}

std::string seal(const Keys& keys, std::string_view key, std::string_view plain) {
  return aes256gcm_seal(keys.encryption, plain, key);
}

Lookup open_found(const Keys& keys, std::string_view key, Lookup found) {
  if (!found.ok() || !found->has_value()) return found;
  auto plain = aes256gcm_open(keys.encryption, **found, key);
  if (!plain.ok()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(plain.value()));
}

Result<void> put_sealed(Store& store, const Keys& keys, std::string_view key, std::string_view plain,
                        std::chrono::milliseconds ttl) {
  return store.set(key, seal(keys, key, plain), ttl);
}

Result<bool> rewrite_sealed(Store& store, const Keys& keys, std::string_view key, std::string_view plain,
                            std::chrono::milliseconds ttl) {
  return store.set_if_exists(key, seal(keys, key, plain), ttl);
}

Lookup get_sealed(Store& store, const Keys& keys, std::string_view key) {
  return open_found(keys, key, store.get(key));
}

} // namespace oauthfcgi
