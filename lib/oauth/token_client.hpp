// Calling an API as a service: the client-credentials grant (RFC 6749 4.4) for a
// [client NAME] section, and a token cache that asks the token endpoint no more than
// it must, across threads, processes and hosts.
//
// - A token is obtained before the first request and kept until less than
//   min(30 s, 10% of its lifetime) remains; then the next request renews it first.
// - A 401 from the resource: a new token (unless someone already replaced the refused
//   one), and the request once more. A second 401 is the answer.
// - A token endpoint that fails: that error, and no resource request.
// - cache = redis: the token is shared by every process and host on the Redis,
//   sealed with AES-256-GCM (key from [server] secret_file), its TTL the token's
//   remaining lifetime. One renewal at a time (a StoreLock, lock.hpp); the others
//   wait for it (at most [http] timeout_ms plus two Redis round trips) and use its
//   token, or its error.
// - cache = memory: the same within one process (one MemoryTokenCache shared by its
//   threads).
//
// Redis keys (store_keys.hpp's client_token_keys): the sealed token (TTL = its
// remaining lifetime), the renewal lock (an owner id, TTL = the lease), and the last
// renewal's failure for the processes that waited on it (sealed, TTL = the lease).
//
// Token lifetimes, the Redis cache's wait and its lock's owner id come from the Clock
// (and Random) given, the system ones by default (clock.hpp), so tests move time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "config.hpp"
#include "crypto.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "lock.hpp"
#include "log.hpp"
#include "store.hpp"

namespace oauthfcgi {

struct ClientToken {
  std::string access_token;  // never logged, printed or stored in clear
  std::string scope;         // granted, space-separated (the asked scope when the answer says none)
  long long obtained_at = 0; // unix ms: when it was asked for
  long long expires_at = 0;  // unix ms
};

// A token answer without expires_in is kept this long (and renewed sooner on a 401).
constexpr std::chrono::seconds kAssumedTokenLifetime{300};
// Renewal starts this close to expiry at most (and at 10% of the lifetime for short ones).
constexpr std::chrono::seconds kMaxRenewalMargin{30};

// min(30 s, 10% of the token's lifetime).
std::chrono::milliseconds renewal_margin(const ClientToken& token);
// True when less than renewal_margin() is left at now_ms.
bool needs_renewal(const ClientToken& token, long long now_ms);

// The cached record (JSON), both ways; decode gives nullopt for anything malformed.
std::string encode_client_token(const ClientToken& token);
std::optional<ClientToken> decode_client_token(std::string_view json);

// One token request (RFC 6749 4.4.2): POST grant_type=client_credentials and scope,
// client_secret_basic or client_secret_post. Errors: provider_error (refused, bad
// answer, unreachable) or provider_timeout, the reason naming the [client NAME] and
// never the secret.
// `prepare`, when given, is applied to the request before it is sent (a lock's
// heartbeat, lease_http.hpp's keep_alive).
using PrepareRequest = std::function<void(HttpRequest&)>;
Result<ClientToken> request_client_token(HttpClient& http, const ClientConfig& client, long long now_ms,
                                         const PrepareRequest& prepare = {});

// Asks for a token; the cache passes what must be done to the request (keep its
// lock's lease while the token endpoint answers).
using TokenRequest = std::function<Result<ClientToken>(const PrepareRequest& prepare)>;

class ClientTokenCache {
public:
  virtual ~ClientTokenCache() = default;
  // A token fit for use — not within its renewal margin and not `rejected` (the
  // one a resource just refused; "" for none): the cached one, else one `request`
  // gets. Of everyone sharing the cache, one runs `request` at a time; the others
  // wait for it and take its outcome: its token (even when equal to `rejected`: some
  // servers hand out the same token until it expires), or its error.
  virtual Result<ClientToken> get(std::string_view rejected, const TokenRequest& request) = 0;
};

// Per process: share one among all threads. Thread-safe.
class MemoryTokenCache : public ClientTokenCache {
public:
  // wait: how long a thread waits for another's renewal (real time: a condition
  // variable's); clock: for the renewal margin.
  explicit MemoryTokenCache(std::chrono::milliseconds wait, const Clock& clock = system_clock());
  Result<ClientToken> get(std::string_view rejected, const TokenRequest& request) override;

private:
  std::chrono::milliseconds wait_;
  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable done_;
  bool renewing_ = false;
  std::optional<ClientToken> token_;
  std::optional<Error> failure_; // the last renewal's, when it failed
};

// Shared through the Store (Redis) by every process and host. One per thread: it uses
// that thread's Store connection.
class RedisTokenCache : public ClientTokenCache {
public:
  RedisTokenCache(Store& store, const Keys& keys, const ClientConfig& client, const LockTiming& timing,
                  const Clock& clock = system_clock(), const Random& random = system_random());
  Result<ClientToken> get(std::string_view rejected, const TokenRequest& request) override;

  // Key names, exposed for tests that inspect Redis.
  const std::string& token_key() const { return token_key_; }
  const std::string& lock_key() const { return lock_key_; }
  const std::string& error_key() const { return error_key_; }

private:
  Result<std::optional<ClientToken>> read();
  void store_token(const ClientToken& token);
  void store_failure(const std::string& owner, const Error& error);
  std::optional<Error> failure_of(const std::vector<std::string>& holders);

  Store& store_;
  const Keys& keys_;
  LockTiming timing_;
  const Clock& clock_;
  const Random& random_;
  std::string token_key_, lock_key_, error_key_;
};

// Where TokenClient::fetch failed.
enum class FetchStep { token, resource };

struct FetchResult {
  HttpResponse response;
  // The access token the answered request carried: for taking it out of what is shown
  // (an echo service may repeat it). Never log or print it.
  std::string token;
  bool retried = false; // the first answer was a 401; this is the retry's
};

// One thread's client for a [client NAME] section.
class TokenClient {
public:
  // The objects passed in must outlive the client. log may be nullptr.
  TokenClient(const ClientConfig& client, HttpClient& http, ClientTokenCache& cache, const Log* log = nullptr,
              const Clock& clock = system_clock());

  // A token fit for use (cached, or asked for now).
  Result<ClientToken> token();
  // `request` with Authorization: Bearer (an Authorization header in it is replaced);
  // a 401 gets a new token and the request once more. Fails without sending anything
  // when no token could be had; *failed_at (when given) says which step failed.
  Result<FetchResult> fetch(HttpRequest request, FetchStep* failed_at = nullptr);

private:
  Result<ClientToken> obtain(std::string_view rejected);

  const ClientConfig& client_;
  HttpClient& http_;
  ClientTokenCache& cache_;
  const Log* log_;
  const Clock& clock_;
};

} // namespace oauthfcgi
