// A lock in the Store: one holder at a time across every process and host that
// shares the Redis (SET key owner NX PX lease). The holder is an owner id — a
// purpose ("refresh:", "token:") and 128 random bits — and only it extends or
// releases the lock (compare-and-delete), so an owner whose lease ran out can't
// release its successor's. The lease bounds how long a crashed owner blocks the
// others; a live owner extends it while it waits on something slow, through its
// heartbeat() (lease_http.hpp wires that to an HTTP call). The others poll for the
// release with short sleeps, up to a deadline, and then use what the owner stored.
// Deadlines, sleeps and owner ids come from the Clock and Random given (clock.hpp).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "config.hpp"
#include "error.hpp"
#include "store.hpp"

namespace oauthfcgi {

struct LockTiming {
  std::chrono::milliseconds lease;     // TTL of the lock; extended while the owner's calls run
  std::chrono::milliseconds heartbeat; // how often the owner extends it (lease / 3)
  std::chrono::milliseconds wait;      // how long the others wait for it at most
  std::chrono::milliseconds poll;      // how often they look
};
// lease: max(5 s, 4 x [redis] timeout_ms), so the owner's Redis calls fit between two
// extensions; wait: [http] timeout_ms plus two Redis round trips (the owner's call,
// then its write); poll: 25 ms.
LockTiming lock_timing(const Config& config);

// What keeps a lease while its owner waits: `beat` called every `every` extends it.
struct Heartbeat {
  std::function<void()> beat;
  std::chrono::milliseconds every;
};

// One hold of the lock at `key`, released (by its owner only) when it goes out of scope.
class StoreLock {
public:
  // purpose starts the owner id ("refresh:"), so waiters can tell who held it.
  StoreLock(Store& store, std::string key, std::string_view purpose, const LockTiming& timing,
            const Clock& clock = system_clock(), const Random& random = system_random());
  ~StoreLock();
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

  // SET NX PX: true when this call took the lock (or it already held it).
  Result<bool> try_acquire();
  // try_acquire every timing.poll until it succeeds or `deadline` (clock's steady
  // time) passes (false).
  Result<bool> acquire_until(Clock::SteadyTime deadline);
  // The lease anew, only while still ours. Best effort: a lease that runs out anyway
  // shows as a lock someone else may take.
  void extend();
  // Compare-and-delete; nothing when not held. Also done by the destructor.
  void release();
  // extend(), every timing.heartbeat, for whoever runs the slow call. Valid while
  // this StoreLock lives.
  Heartbeat heartbeat();

  bool held() const { return held_; }
  const std::string& key() const { return key_; }
  const std::string& owner() const { return owner_; }

private:
  Store& store_;
  std::string key_;
  std::string owner_;
  LockTiming timing_;
  const Clock& clock_;
  bool held_ = false;
};

struct LockRelease {
  bool released = false;                        // false: still held when the deadline passed
  std::vector<std::string> holders;             // owner ids seen holding it, in order (repeats dropped)
  bool held_by(std::string_view purpose) const; // one of them started with purpose
};
// Polls `key` every `poll` until nobody holds it or `deadline` (clock's steady time)
// passes. A lock that is free at the first look is released with no holders.
Result<LockRelease> wait_for_release(Store& store, std::string_view key, Clock::SteadyTime deadline,
                                     std::chrono::milliseconds poll, const Clock& clock = system_clock());

} // namespace oauthfcgi
