// An in-memory Store for tests of code that sits on the store (sessions, states,
// token caches). Same semantics as RedisStore: three outcomes per lookup, every
// write needs a TTL > 0, values over kMaxStoreValueBytes are refused, take() is
// single-use even across threads. Keys are kept as given (no key_prefix).
//
// Time is a Clock's steady time (the system's, or a test's FakeClock after
// use_clock) plus an offset that advance() moves, so tests can watch a TTL run out
// without sleeping. set_unavailable(true) makes every call fail the way
// an unreachable Redis does. before_write() runs a test's code just before a write
// reaches a key (another request landing in between, as in a race).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "store.hpp"

namespace testutil {

class MemoryStore : public oauthfcgi::Store {
public:
  using Clock = std::chrono::steady_clock;
  using ms = std::chrono::milliseconds;

  oauthfcgi::Lookup get(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads_;
    if (down_) return unavailable();
    Entry* e = find(key);
    if (!e) return std::optional<std::string>();
    return std::optional<std::string>(e->value);
  }

  oauthfcgi::Lookup get_and_expire(std::string_view key, ms ttl) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads_;
    if (down_) return unavailable();
    if (ttl.count() <= 0) return bad_ttl(ttl);
    Entry* e = find(key);
    if (!e) return std::optional<std::string>();
    e->expires = now() + ttl;
    return std::optional<std::string>(e->value);
  }

  oauthfcgi::Result<void> set(std::string_view key, std::string_view value, ms ttl) override {
    writing("SET", key);
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    if (auto bad = check(value, ttl)) return *bad;
    entries_[std::string(key)] = Entry{std::string(value), now() + ttl};
    return {};
  }

  oauthfcgi::Result<bool> set_if_absent(std::string_view key, std::string_view value, ms ttl) override {
    writing("SET NX", key);
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    if (auto bad = check(value, ttl)) return *bad;
    if (find(key)) return false;
    entries_[std::string(key)] = Entry{std::string(value), now() + ttl};
    return true;
  }

  oauthfcgi::Result<bool> set_if_exists(std::string_view key, std::string_view value, ms ttl) override {
    writing("SET XX", key);
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    if (auto bad = check(value, ttl)) return *bad;
    Entry* e = find(key);
    if (!e) return false;
    *e = Entry{std::string(value), now() + ttl};
    return true;
  }

  oauthfcgi::Lookup take(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    Entry* e = find(key);
    if (!e) return std::optional<std::string>();
    std::string value = std::move(e->value);
    entries_.erase(std::string(key));
    return std::optional<std::string>(std::move(value));
  }

  oauthfcgi::Result<bool> remove(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    if (!find(key)) return false;
    entries_.erase(std::string(key));
    return true;
  }

  oauthfcgi::Result<bool> remove_if_equals(std::string_view key, std::string_view value) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    Entry* e = find(key);
    if (!e || e->value != value) return false;
    entries_.erase(std::string(key));
    return true;
  }

  oauthfcgi::Result<bool> expire_if_equals(std::string_view key, std::string_view value, ms ttl) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    if (ttl.count() <= 0) return bad_ttl(ttl);
    Entry* e = find(key);
    if (!e || e->value != value) return false;
    e->expires = now() + ttl;
    return true;
  }

  oauthfcgi::Result<long long> add(std::string_view key, long long delta, ms ttl,
                                   long long ceiling) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    if (ttl.count() <= 0) return bad_ttl(ttl);
    Entry* e = find(key);
    long long n = (e ? std::stoll(e->value) : 0) + delta;
    if (delta > 0 && n > ceiling) return ceiling + 1;
    if (n <= 0) {
      entries_.erase(std::string(key));
      return 0;
    }
    if (!e) e = &(entries_[std::string(key)] = Entry{"", now() + ttl});
    e->value = std::to_string(n);
    if (delta > 0) e->expires = now() + ttl;
    return n;
  }

  oauthfcgi::Result<bool> expire(std::string_view key, ms ttl) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    if (ttl.count() <= 0) return bad_ttl(ttl);
    Entry* e = find(key);
    if (!e) return false;
    e->expires = now() + ttl;
    return true;
  }

  oauthfcgi::Result<std::optional<ms>> ttl(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    Entry* e = find(key);
    if (!e) return std::optional<ms>();
    // Rounded up like Redis's PTTL never reports 0 for a live key.
    auto left = std::chrono::ceil<ms>(e->expires - now());
    return std::optional<ms>(left);
  }

  oauthfcgi::Result<void> ping() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (down_) return unavailable();
    return {};
  }

  // ---- test controls ----

  // Calls hook(command, key) before each write ("SET", "SET NX", ...) of a value, outside
  // the store's lock: the hook may use the store (a logout racing a write-back).
  void before_write(std::function<void(std::string_view command, std::string_view key)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    before_write_ = std::move(hook);
  }
  // Reads the time from `clock` from now on (which must outlive this store).
  void use_clock(const oauthfcgi::Clock& clock) {
    std::lock_guard<std::mutex> lock(mu_);
    clock_ = &clock;
  }
  // Moves this store's clock forward: keys whose TTL runs out meanwhile are gone.
  void advance(ms by) {
    std::lock_guard<std::mutex> lock(mu_);
    offset_ += by;
  }
  // While true, every call fails with store_unavailable, as with Redis down.
  void set_unavailable(bool down) {
    std::lock_guard<std::mutex> lock(mu_);
    down_ = down;
  }
  // Live keys, sorted.
  std::vector<std::string> keys() {
    std::lock_guard<std::mutex> lock(mu_);
    purge();
    std::vector<std::string> out;
    for (auto& [k, e] : entries_)
      out.push_back(k);
    return out;
  }
  size_t size() { return keys().size(); }
  // How many get/get_and_expire calls (Redis round trips reading a value) so far.
  long reads() {
    std::lock_guard<std::mutex> lock(mu_);
    return reads_;
  }

  // The raw value, ignoring set_unavailable (for assertions on what was written).
  std::optional<std::string> peek(std::string_view key) {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = find(key);
    return e ? std::optional<std::string>(e->value) : std::nullopt;
  }

private:
  struct Entry {
    std::string value;
    Clock::time_point expires;
  };

  Clock::time_point now() const { return clock_->steady() + offset_; }

  void writing(std::string_view command, std::string_view key) {
    std::function<void(std::string_view, std::string_view)> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hook = before_write_;
    }
    if (hook) hook(command, key);
  }

  // The live entry for key, dropping it when expired.
  Entry* find(std::string_view key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return nullptr;
    if (it->second.expires <= now()) {
      entries_.erase(it);
      return nullptr;
    }
    return &it->second;
  }
  void purge() {
    auto t = now();
    for (auto it = entries_.begin(); it != entries_.end();)
      it = it->second.expires <= t ? entries_.erase(it) : std::next(it);
  }

  static oauthfcgi::Error unavailable() {
    return oauthfcgi::make_error(oauthfcgi::ErrorKind::store_unavailable, "memory store: marked unavailable");
  }
  static oauthfcgi::Error bad_ttl(ms ttl) {
    return oauthfcgi::make_error(oauthfcgi::ErrorKind::internal,
                                 "memory store: refusing a TTL of " + std::to_string(ttl.count()) + " ms");
  }
  static std::optional<oauthfcgi::Error> check(std::string_view value, ms ttl) {
    if (ttl.count() <= 0) return bad_ttl(ttl);
    if (value.size() > oauthfcgi::kMaxStoreValueBytes)
      return oauthfcgi::make_error(oauthfcgi::ErrorKind::internal, "memory store: value of " +
                                                                       std::to_string(value.size()) +
                                                                       " bytes is over the limit");
    return std::nullopt;
  }

  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
  const oauthfcgi::Clock* clock_ = &oauthfcgi::system_clock();
  Clock::duration offset_{};
  bool down_ = false;
  long reads_ = 0;
  std::function<void(std::string_view, std::string_view)> before_write_;
};

} // namespace testutil
