// The key-value store behind states, sessions, locks and caches (key names:
// store_keys.hpp). Store is the interface the library uses (tests pass MemoryStore);
// RedisStore is the real one (redis_store.cpp): one connection per worker thread,
// [redis] timeouts, reconnect after an error with AUTH and SELECT re-sent. Every key
// gets key_prefix in front and every write a TTL. Lookups have three outcomes: found
// (a value), not found (nullopt), and failed (an Error of kind store_unavailable).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "error.hpp"

namespace oauthfcgi {

using Lookup = Result<std::optional<std::string>>;

// Largest value a Store writes or accepts back (STYLE: every read from outside has a
// ceiling). Larger values are refused with an internal error.
inline constexpr std::size_t kMaxStoreValueBytes = 1024 * 1024;

class Store {
public:
  virtual ~Store() = default;
  virtual Lookup get(std::string_view key) = 0;
  // SET key value PX ttl. ttl must be > 0.
  virtual Result<void> set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) = 0;
  // SET key value NX PX ttl: true when this call created the key.
  virtual Result<bool> set_if_absent(std::string_view key, std::string_view value,
                                     std::chrono::milliseconds ttl) = 0;
  // SET key value XX PX ttl: rewrites the key only while it exists; true when written.
  // A record deleted meanwhile (a session logged out) is never created again.
  virtual Result<bool> set_if_exists(std::string_view key, std::string_view value,
                                     std::chrono::milliseconds ttl) = 0;
  // GETEX key PX ttl: the value, and its TTL set anew in the same round trip
  // (sliding sessions). ttl must be > 0.
  virtual Lookup get_and_expire(std::string_view key, std::chrono::milliseconds ttl) = 0;
  // GETDEL: the value, once; a second take of the same key finds nothing.
  virtual Lookup take(std::string_view key) = 0;
  // DEL: true when a key was deleted.
  virtual Result<bool> remove(std::string_view key) = 0;
  // Deletes key only while it still holds `value` (releasing a lock one owns).
  virtual Result<bool> remove_if_equals(std::string_view key, std::string_view value) = 0;
  // INCRBY key delta and, when delta > 0, PEXPIRE key ttl, in one step: the counter's
  // new value. A counter never goes below 0: one that reaches it is deleted, so no
  // key is left without a TTL. An increase that would pass `ceiling` changes nothing,
  // not even the TTL (refused attempts must not prolong a lockout), and answers
  // ceiling + 1. ttl must be > 0.
  virtual Result<long long> add(std::string_view key, long long delta, std::chrono::milliseconds ttl,
                                long long ceiling) = 0;
  // PEXPIRE: true when the key exists.
  virtual Result<bool> expire(std::string_view key, std::chrono::milliseconds ttl) = 0;
  // PEXPIRE only while key still holds `value` (extending a lock's lease one owns).
  virtual Result<bool> expire_if_equals(std::string_view key, std::string_view value,
                                        std::chrono::milliseconds ttl) = 0;
  // Remaining TTL; nullopt when the key does not exist. milliseconds(-1) for a key
  // without a TTL, which this project never writes.
  virtual Result<std::optional<std::chrono::milliseconds>> ttl(std::string_view key) = 0;
  virtual Result<void> ping() = 0;
};

class RedisStore : public Store {
public:
  explicit RedisStore(const RedisConfig& config);
  ~RedisStore() override;
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  Lookup get(std::string_view key) override;
  Result<void> set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) override;
  Result<bool> set_if_absent(std::string_view key, std::string_view value,
                             std::chrono::milliseconds ttl) override;
  Result<bool> set_if_exists(std::string_view key, std::string_view value,
                             std::chrono::milliseconds ttl) override;
  Lookup get_and_expire(std::string_view key, std::chrono::milliseconds ttl) override;
  Lookup take(std::string_view key) override;
  Result<bool> remove(std::string_view key) override;
  Result<bool> remove_if_equals(std::string_view key, std::string_view value) override;
  Result<long long> add(std::string_view key, long long delta, std::chrono::milliseconds ttl,
                        long long ceiling) override;
  Result<bool> expire(std::string_view key, std::chrono::milliseconds ttl) override;
  Result<bool> expire_if_equals(std::string_view key, std::string_view value,
                                std::chrono::milliseconds ttl) override;
  Result<std::optional<std::chrono::milliseconds>> ttl(std::string_view key) override;
  Result<void> ping() override;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// For a process that ignores SIGPIPE for good (the programs do, before any thread
// starts): RedisStore then skips guarding each command against SIGPIPE, three
// system calls a command. Never undone.
void redis_sigpipe_ignored_for_good();

// Parses [redis] url (redis://[[user]:password@]host[:port][/db],
// unix:///path[?db=N]) into config's host/port/db/... fields.
Result<void> parse_redis_url(std::string_view url, RedisConfig& out);

} // namespace oauthfcgi
