// The Store lock (lock.cpp): one holder, released and extended only by its owner,
// its lease kept by its heartbeat, waiters bounded by their deadline. The waits run
// on a FakeClock: their sleeps move it, and the holder lets go at a time on it.
#include "lock.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "fake_clock.hpp"
#include "memory_store.hpp"

using namespace oauthfcgi;
using namespace std::chrono_literals;

namespace {

testutil::FakeClock fake_clock;
// The time the waits below see.
struct Clock {
  static oauthfcgi::Clock::SteadyTime now() { return fake_clock.steady(); }
};

const LockTiming kTiming{5000ms, 1000ms, 200ms, 10ms};

TEST(Lock, OneHolderAtATimeAndOnlyItsOwnerReleasesIt) {
  testutil::MemoryStore store;
  StoreLock a(store, "lock:x", "token:", kTiming);
  StoreLock b(store, "lock:x", "token:", kTiming);
  ASSERT_TRUE(*a.try_acquire());
  EXPECT_TRUE(a.held());
  EXPECT_EQ(a.owner().rfind("token:", 0), 0u);
  EXPECT_GE(a.owner().size(), 6u + 21u) << "128 random bits after the purpose";
  EXPECT_FALSE(*b.try_acquire());
  b.release(); // not held: does nothing
  EXPECT_EQ(store.peek("lock:x"), a.owner());
  a.release();
  EXPECT_FALSE(store.peek("lock:x"));
  EXPECT_TRUE(*b.try_acquire());
}

TEST(Lock, AnOwnerWhoseLeaseRanOutDoesNotReleaseItsSuccessor) {
  testutil::MemoryStore store;
  auto a = std::make_unique<StoreLock>(store, "lock:x", "refresh:", kTiming);
  ASSERT_TRUE(*a->try_acquire());
  store.advance(6000ms); // a's lease is over
  StoreLock b(store, "lock:x", "refresh:", kTiming);
  ASSERT_TRUE(*b.try_acquire());
  a->extend();
  a.reset(); // destructor releases: compare-and-delete misses
  EXPECT_EQ(store.peek("lock:x"), b.owner());
}

TEST(Lock, HeartbeatRenewsTheLeaseWhileHeldOnly) {
  testutil::MemoryStore store;
  StoreLock lock(store, "lock:x", "token:", kTiming);
  ASSERT_TRUE(*lock.try_acquire());
  const Heartbeat heartbeat = lock.heartbeat();
  EXPECT_EQ(heartbeat.every, kTiming.heartbeat);
  store.advance(4500ms);
  heartbeat.beat();
  auto left = store.ttl("lock:x");
  ASSERT_TRUE(left.ok() && left->has_value());
  EXPECT_GT(**left, 4500ms) << "the lease anew, not the 500 ms that were left";
  lock.release();
  heartbeat.beat();
  EXPECT_FALSE(store.peek("lock:x")) << "a released lock is not brought back";
}

TEST(Lock, WaitForReleaseSeesTheHoldersAndIsBounded) {
  testutil::MemoryStore store;
  ASSERT_TRUE(*store.set_if_absent("lock:x", "token:STUCK", 60000ms));
  auto start = Clock::now();
  auto waited = wait_for_release(store, "lock:x", start + 100ms, 10ms, fake_clock);
  ASSERT_TRUE(waited.ok());
  EXPECT_FALSE(waited->released);
  EXPECT_GE(Clock::now() - start, 100ms);
  EXPECT_LT(Clock::now() - start, 1000ms);
  ASSERT_EQ(waited->holders.size(), 1u);
  EXPECT_TRUE(waited->held_by("token:"));
  EXPECT_FALSE(waited->held_by("refresh:"));

  fake_clock.at(50ms, [&] { (void)store.remove_if_equals("lock:x", "token:STUCK"); });
  auto released = wait_for_release(store, "lock:x", Clock::now() + 5s, 10ms, fake_clock);
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(released->released);
  EXPECT_EQ(released->holders, std::vector<std::string>{"token:STUCK"});

  auto free_at_once = wait_for_release(store, "lock:x", Clock::now() + 5s, 10ms, fake_clock);
  ASSERT_TRUE(free_at_once.ok());
  EXPECT_TRUE(free_at_once->released);
  EXPECT_TRUE(free_at_once->holders.empty());
}

TEST(Lock, AcquireUntilWaitsForTheHolderOrGivesUp) {
  testutil::MemoryStore store;
  ASSERT_TRUE(*store.set_if_absent("lock:x", "update:OTHER", 60000ms));
  StoreLock lock(store, "lock:x", "update:", kTiming, fake_clock);
  auto start = Clock::now();
  auto got = lock.acquire_until(start + 80ms);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(*got);
  EXPECT_GE(Clock::now() - start, 80ms);

  fake_clock.at(30ms, [&] { (void)store.remove_if_equals("lock:x", "update:OTHER"); });
  got = lock.acquire_until(Clock::now() + 5s);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got);
}

TEST(Lock, StoreDownIsAnErrorNotAHold) {
  testutil::MemoryStore store;
  store.set_unavailable(true);
  StoreLock lock(store, "lock:x", "token:", kTiming);
  auto got = lock.try_acquire();
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::store_unavailable);
  EXPECT_FALSE(lock.held());
  EXPECT_FALSE(wait_for_release(store, "lock:x", Clock::now() + 1s, 10ms).ok());
}

TEST(Lock, TimingFollowsTheConfig) {
  Config c;
  c.redis.timeout_ms = 500;
  c.http.timeout_ms = 10000;
  LockTiming t = lock_timing(c);
  EXPECT_EQ(t.lease, 5000ms);
  EXPECT_EQ(t.heartbeat, 5000ms / 3);
  EXPECT_EQ(t.wait, 11000ms);
  EXPECT_EQ(t.poll, 25ms);
  c.redis.timeout_ms = 2000;
  EXPECT_EQ(lock_timing(c).lease, 8000ms);
}

} // namespace
