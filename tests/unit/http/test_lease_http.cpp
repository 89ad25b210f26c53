// A lock's lease kept while an HTTP call runs (lease_http.cpp).
#include "lease_http.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "fake_http.hpp"
#include "memory_store.hpp"

using namespace oauthfcgi;
using namespace std::chrono_literals;

namespace {

const LockTiming kTiming{5000ms, 1000ms, 200ms, 10ms};

TEST(LeaseHttp, KeepAliveExtendsTheLeaseWhileTheCallRuns) {
  testutil::MemoryStore store;
  StoreLock lock(store, "lock:x", "token:", kTiming);
  ASSERT_TRUE(*lock.try_acquire());
  testutil::FakeHttp inner;
  // A call that lasts 4 leases: the client's progress callback beats meanwhile.
  inner.on("http://t/", [&](const HttpRequest& r) -> Result<HttpResponse> {
    EXPECT_EQ(r.heartbeat_every, kTiming.heartbeat);
    for (int i = 0; i < 4; ++i) {
      store.advance(4000ms);
      r.heartbeat();
      EXPECT_EQ(store.peek("lock:x"), lock.owner()) << "still held after " << (i + 1) * 4 << " s";
    }
    HttpResponse ok;
    ok.status = 200;
    return ok;
  });
  LeaseKeepingHttp http(inner, lock);
  ASSERT_TRUE(http.send(http_get("http://t/")).ok());
  auto ttl = store.ttl("lock:x");
  ASSERT_TRUE(ttl.ok() && ttl->has_value());
  EXPECT_GT(**ttl, 4000ms);
}

TEST(LeaseHttp, KeepAliveSetsTheRequestsHeartbeat) {
  int beats = 0;
  HttpRequest request = http_get("http://t/");
  keep_alive(request, Heartbeat{[&] { ++beats; }, 1234ms});
  EXPECT_EQ(request.heartbeat_every, 1234ms);
  ASSERT_TRUE(request.heartbeat);
  request.heartbeat();
  EXPECT_EQ(beats, 1);
}

} // namespace
