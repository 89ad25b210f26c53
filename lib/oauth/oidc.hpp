// OpenID Connect (Core 1.0, Discovery 1.0, RFC 9207): the discovery document and
// the JWKS, both cached in Redis (sealed) with a TTL (the discovery document also in the
// process, DiscoveryCache); ID token validation (signature via jose.hpp, then iss,
// aud/azp, exp/iat, nonce); the profile from the claims and userinfo.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "clock.hpp"
#include "crypto.hpp"
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
// Issuers a DiscoveryCache holds at most (a config names a handful).
constexpr std::size_t kDiscoveryCacheEntries = 16;

// What discover() reads of a discovery document (defined in oidc.cpp).
struct Discovery;

// Discovery documents already accepted, kept in the process so that connect, callback,
// logout and refresh neither read Redis nor parse JSON for them on every request. One
// entry per issuer (as the Redis key), each until the deadline of the Redis copy it
// came from, never later; at most `capacity` entries. Shared by the worker threads.
class DiscoveryCache {
public:
  using Clock = std::chrono::steady_clock;
  explicit DiscoveryCache(
      std::function<Clock::time_point()> now = [] { return system_clock().steady(); },
      std::size_t capacity = kDiscoveryCacheEntries);
  DiscoveryCache(const DiscoveryCache&) = delete;
  DiscoveryCache& operator=(const DiscoveryCache&) = delete;

  Clock::time_point now() const { return now_(); }
  // The entry for issuer while its deadline has not passed; nullptr otherwise.
  std::shared_ptr<const Discovery> find(const std::string& issuer);
  // Keeps doc until `until`; when full, expired entries go first, then the one due soonest.
  void put(const std::string& issuer, std::shared_ptr<const Discovery> doc, Clock::time_point until);
  void erase(const std::string& issuer);
  std::size_t size();

private:
  struct Entry {
    std::shared_ptr<const Discovery> doc;
    Clock::time_point until;
  };
  std::function<Clock::time_point()> now_;
  std::size_t capacity_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

// The one cache of this process (what discover() uses unless told otherwise).
DiscoveryCache& process_discovery_cache();

// Reads issuer + /.well-known/openid-configuration (from the process cache, else from
// Redis, else over HTTP), checks that its issuer is ours exactly, and fills the
// endpoints the config didn't set, jwks_uri, the RFC 9207 flag, the ID token algorithms
// and the client auth method. Endpoints must be https://, or http:// on loopback when
// the issuer is on loopback too. The Redis copy is sealed with `keys` (store_keys.hpp);
// one that does not open is fetched again. A cached copy that does not fit the provider
// is dropped (process and Redis) and fetched again, once.
Result<void> discover(Provider& provider, Store& store, const Keys& keys, HttpClient& http,
                      DiscoveryCache& cache = process_discovery_cache());

// Checks a parsed discovery document against the provider and applies it; on an error
// the provider is left as it was.
Result<void> apply_discovery(Provider& provider, const cJSON* document);

// The ID token: signature against the issuer's JWKS (its Redis copy sealed with `keys`
// like the discovery document; refetched once on an unknown kid), then the claims.
// Returns the claims.
Result<Json> verify_id_token(const Provider& provider, Store& store, const Keys& keys, HttpClient& http,
                             std::string_view id_token, std::string_view nonce, long now);

// The claims alone (OIDC Core 3.1.3.7): iss, sub, aud (and azp when several
// audiences, or whenever present), exp and iat within kClockSkew, nonce.
Result<void> check_id_token_claims(const cJSON* claims, const std::string& issuer,
                                   const std::string& client_id, std::string_view nonce, long now);

// The user from the ID token's claims and, when the server has one, userinfo (whose
// sub must be the ID token's). The email only when one says it is verified and neither says not
// (fill_profile).
Result<Profile> oidc_profile(HttpClient& http, const Provider& provider, TokenSet& tokens,
                             const cJSON* claims);

} // namespace oauthfcgi
