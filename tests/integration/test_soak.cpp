// A long-running worker does not grow: thousands of requests through nginx to every
// program, then their resident memory is compared with what it was after warm-up.
// (Under `make test-sanitize` LeakSanitizer also checks each program at exit.)
#include <gtest/gtest.h>

#include <fstream>

#include "browser.hpp"
#include "stack.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::Stack;

namespace {

// In the sanitizer build ASan's quarantine holds freed memory on purpose, so resident
// size says nothing there; LeakSanitizer checks each program at exit instead.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

long rss_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

} // namespace

TEST(Soak, ThousandsOfRequestsLeaveEveryProgramsMemoryFlat) {
  Stack stack;
  Browser b;
  ASSERT_EQ(stack.login(b).status, 302);
  auto round = [&](int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(b.get(stack.base() + "/private/x").status, 200);
      ASSERT_EQ(b.get(stack.base() + "/auth/profile").status, 200);
      Browser stranger; // a new state per sign-in started
      ASSERT_EQ(stranger.get(stack.base() + "/auth/connect/github?return_to=%2Fa").status, 302);
      ASSERT_EQ(stranger.get(stack.base() + "/auth/callback/github?code=x&state=y").status, 400);
      ASSERT_EQ(b.request("POST", stack.base() + "/auth/logout", {"Origin: https://evil.example"}).status,
                403);
    }
  };
  round(300); // warm-up: allocator pools, curl and Redis connections, TLS-free caches
  std::map<std::string, long> before;
  for (const char* p : {"connect", "callback", "profile", "logout", "check"})
    before[p] = rss_kb(stack.program_pid(p));
  round(1500); // 7500 more requests
  if (kSanitized)
    GTEST_SKIP() << "resident size is ASan's under the sanitizers; LeakSanitizer checks at exit";
  for (const char* p : {"connect", "callback", "profile", "logout", "check"}) {
    long after = rss_kb(stack.program_pid(p));
    ASSERT_GT(before[p], 0) << p;
    EXPECT_LT(after - before[p], 1024)
        << "oauth-" << p << " grew from " << before[p] << " kB to " << after << " kB";
    EXPECT_LT(after, 16 * 1024) << "oauth-" << p;
  }
}
