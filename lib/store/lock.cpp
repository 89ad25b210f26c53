// The Store lock, its timing and the wait for its release (lock.hpp).
#include "lock.hpp"

#include <algorithm>

namespace oauthfcgi {

using ms = std::chrono::milliseconds;

LockTiming lock_timing(const Config& config) {
  ms redis(config.redis.timeout_ms);
  ms lease = std::max(ms(5000), 4 * redis);
  return LockTiming{lease, lease / 3, ms(config.http.timeout_ms) + 2 * redis, ms(25)};
}

StoreLock::StoreLock(Store& store, std::string key, std::string_view purpose, const LockTiming& timing,
                     const Clock& clock, const Random& random)
    : store_(store), key_(std::move(key)), owner_(std::string(purpose) + random.token(16)), timing_(timing),
      clock_(clock) {}

StoreLock::~StoreLock() {
  release();
}

Result<bool> StoreLock::try_acquire() {
  if (held_) return true;
  auto got = store_.set_if_absent(key_, owner_, timing_.lease);
  if (got.ok()) held_ = *got;
  return got;
}

Result<bool> StoreLock::acquire_until(Clock::SteadyTime deadline) {
  for (;;) {
    auto got = try_acquire();
    if (!got.ok() || *got) return got;
    if (clock_.steady() >= deadline) return false;
    clock_.sleep_for(timing_.poll);
  }
}

void StoreLock::extend() {
  if (held_) (void)store_.expire_if_equals(key_, owner_, timing_.lease);
}

void StoreLock::release() {
  if (!held_) return;
  held_ = false;
  (void)store_.remove_if_equals(key_, owner_);
}

Heartbeat StoreLock::heartbeat() {
  return Heartbeat{[this] { extend(); }, timing_.heartbeat};
}

bool LockRelease::held_by(std::string_view purpose) const {
  return std::any_of(holders.begin(), holders.end(),
                     [&](const std::string& h) { return h.compare(0, purpose.size(), purpose) == 0; });
}

Result<LockRelease> wait_for_release(Store& store, std::string_view key, Clock::SteadyTime deadline, ms poll,
                                     const Clock& clock) {
  LockRelease out;
  for (;;) {
    auto holder = store.get(key);
    if (!holder.ok()) return holder.error();
    if (!holder->has_value()) {
      out.released = true;
      return out;
    }
    if (out.holders.empty() || out.holders.back() != **holder) out.holders.push_back(std::move(**holder));
    if (clock.steady() >= deadline) return out;
    clock.sleep_for(poll);
  }
}

} // namespace oauthfcgi
