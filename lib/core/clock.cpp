// The system Clock and Random (clock.hpp).
#include "clock.hpp"

#include <thread>

#include "crypto.hpp"

namespace oauthfcgi {
namespace {

class SystemClock : public Clock {
public:
  long long now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  SteadyTime steady() const override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) const override { std::this_thread::sleep_for(d); }
};

class SystemRandom : public Random {
public:
  std::string bytes(std::size_t n) const override { return random_bytes(n); }
};

} // namespace

std::string Random::token(std::size_t n_bytes) const {
  return base64url_encode(bytes(n_bytes));
}

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

const Random& system_random() {
  static const SystemRandom random;
  return random;
}

} // namespace oauthfcgi
