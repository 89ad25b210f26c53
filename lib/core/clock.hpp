// The time and the randomness that handlers, flows and locks use, passed in (Context,
// or a parameter) so tests can move time and draw known values: Clock and Random, and
// system_clock() / system_random(), the real ones. system_clock() is the one place
// that reads the OS clocks; system_random() draws from crypto.hpp's CSPRNG.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace oauthfcgi {

class Clock {
public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  // Wall-clock time in unix milliseconds.
  virtual long long now_ms() const = 0;
  // Monotonic time, for deadlines and durations.
  virtual SteadyTime steady() const = 0;
  // Waits `d` (between two looks at a lock).
  virtual void sleep_for(std::chrono::milliseconds d) const = 0;
  // Wall-clock time in unix seconds.
  long now() const { return static_cast<long>(now_ms() / 1000); }
};

class Random {
public:
  virtual ~Random() = default;
  // n unpredictable bytes.
  virtual std::string bytes(std::size_t n) const = 0;
  // n of them as unpadded base64url (state, nonces, cookies, PKCE verifiers, lock owners).
  std::string token(std::size_t n_bytes) const;
};

// The OS clocks (system_clock, steady_clock) and a real sleep.
const Clock& system_clock();
// crypto.hpp's random_bytes.
const Random& system_random();

} // namespace oauthfcgi
