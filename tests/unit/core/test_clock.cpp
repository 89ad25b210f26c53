// The system Clock and Random (clock.cpp), and the fakes tests put in their place
// (tests/support/fake_clock.hpp).
#include "clock.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "crypto.hpp"
#include "fake_clock.hpp"

using namespace oauthfcgi;
using namespace std::chrono_literals;

namespace {

TEST(SystemClock, TellsTheWallTimeInMillisecondsAndSeconds) {
  const Clock& clock = system_clock();
  auto os = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  long long ms = clock.now_ms();
  EXPECT_GE(ms, os);
  EXPECT_LT(ms - os, 5000);
  long s = clock.now();
  EXPECT_GE(s, ms / 1000);
  EXPECT_LE(s, ms / 1000 + 5);
}

TEST(SystemClock, SleepsAndItsSteadyTimeMovesOn) {
  const Clock& clock = system_clock();
  auto start = clock.steady();
  clock.sleep_for(20ms);
  EXPECT_GE(clock.steady() - start, 20ms);
}

TEST(SystemRandom, DrawsFreshBytesAndTokens) {
  const Random& random = system_random();
  EXPECT_EQ(random.bytes(16).size(), 16u);
  EXPECT_EQ(random.bytes(0), "");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i)
    seen.insert(random.token(32));
  EXPECT_EQ(seen.size(), 100u);
  std::string t = random.token(32);
  EXPECT_EQ(t.size(), 43u) << "256 bits, unpadded base64url";
  EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(FakeClock, MovesOnlyWhenMovedAndBothTimesTogether) {
  testutil::FakeClock clock(1'700'000'000'500LL);
  EXPECT_EQ(clock.now_ms(), 1'700'000'000'500LL);
  EXPECT_EQ(clock.now(), 1'700'000'000L);
  auto steady = clock.steady();
  EXPECT_EQ(clock.steady(), steady);
  clock.advance(1500ms);
  EXPECT_EQ(clock.now_ms(), 1'700'000'002'000LL);
  EXPECT_EQ(clock.now(), 1'700'000'002L);
  EXPECT_EQ(clock.steady() - steady, 1500ms);
}

TEST(FakeClock, StartsAtTheSystemTime) {
  testutil::FakeClock clock;
  EXPECT_LT(std::abs(clock.now_ms() - system_clock().now_ms()), 5000);
}

TEST(FakeClock, SleepingRunsTheTestsActionsAndMovesTheClock) {
  testutil::FakeClock clock;
  auto start = clock.steady();
  std::vector<std::string> seen;
  clock.on_sleep = [&](std::chrono::milliseconds d) { seen.push_back("sleep " + std::to_string(d.count())); };
  clock.at(25ms, [&] { seen.push_back("at 25"); });
  clock.sleep_for(10ms);
  clock.sleep_for(10ms);
  EXPECT_EQ(seen, (std::vector<std::string>{"sleep 10", "sleep 10"}));
  clock.sleep_for(10ms);
  EXPECT_EQ(seen.back(), "at 25");
  clock.advance(100ms);
  EXPECT_EQ(seen.size(), 4u) << "an action runs once";
  EXPECT_EQ(clock.steady() - start, 130ms);
}

TEST(FakeRandom, EveryDrawDiffersAndEveryRunIsTheSame) {
  testutil::FakeRandom a, b;
  std::string first = a.bytes(32);
  EXPECT_NE(a.bytes(32), first);
  EXPECT_EQ(b.bytes(32), first);
  (void)b.bytes(32);
  EXPECT_EQ(a.token(32), base64url_encode(b.bytes(32))) << "a token is a draw, encoded";
  EXPECT_EQ(a.bytes(70).size(), 70u);
  EXPECT_EQ(a.draws(), 4u);
}

} // namespace
