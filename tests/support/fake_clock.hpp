// A Clock that moves only when a test moves it, and a Random that draws known bytes
// (clock.hpp), for tests of code that reads the time or draws tokens: session and
// state expiry, token margins, lock waits that take no real time.
//
// FakeClock starts at the system clock's time (so ID tokens a test signs with the
// real time verify) unless given a start. sleep_for() does not sleep: it runs
// on_sleep (what the test has happen meanwhile, in the sleeping thread) and moves the
// clock on; at() schedules an action for when the clock has moved that far.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "clock.hpp"
#include "crypto.hpp"

namespace testutil {

class FakeClock : public oauthfcgi::Clock {
public:
  using ms = std::chrono::milliseconds;

  FakeClock() : FakeClock(oauthfcgi::system_clock().now_ms()) {}
  explicit FakeClock(long long start_unix_ms)
      : wall_ms_(start_unix_ms), steady_(oauthfcgi::system_clock().steady()) {}

  long long now_ms() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return wall_ms_;
  }
  SteadyTime steady() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return steady_;
  }
  void sleep_for(ms d) const override {
    if (on_sleep) on_sleep(d);
    move(d);
  }

  // Both clocks forward by d; then what at() scheduled up to the new time runs.
  void advance(ms d) { move(d); }
  // Runs `action` once the clock is `after` past its present time.
  void at(ms after, std::function<void()> action) {
    std::lock_guard<std::mutex> lock(mu_);
    alarms_.push_back({steady_ + after, std::move(action)});
  }
  // Called by sleep_for, in the sleeping thread, before the time passes. Set it
  // before the threads that sleep start.
  std::function<void(ms)> on_sleep;

private:
  struct Alarm {
    SteadyTime when;
    std::function<void()> action;
  };

  void move(ms d) const {
    std::vector<std::function<void()>> due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wall_ms_ += d.count();
      steady_ += d;
      for (auto it = alarms_.begin(); it != alarms_.end();) {
        if (it->when > steady_) {
          ++it;
          continue;
        }
        due.push_back(std::move(it->action));
        it = alarms_.erase(it);
      }
    }
    for (auto& action : due)
      action();
  }

  mutable std::mutex mu_;
  mutable long long wall_ms_;
  mutable SteadyTime steady_;
  mutable std::vector<Alarm> alarms_;
};

// Draw k is SHA-256("fake random " k) repeated: every draw differs, every run the same.
class FakeRandom : public oauthfcgi::Random {
public:
  std::string bytes(std::size_t n) const override {
    std::string block = oauthfcgi::sha256("fake random " + std::to_string(++draws_));
    std::string out;
    while (out.size() < n)
      out += block;
    out.resize(n);
    return out;
  }
  std::uint64_t draws() const { return draws_.load(); }

private:
  mutable std::atomic<std::uint64_t> draws_{0};
};

} // namespace testutil
