// Token refresh through nginx + Redis against the dev provider and the OIDC emulator:
// rotation, one provider call for concurrent refreshes of one session (also when the
// call outlasts the lock's first lease), invalid_grant ending the session, a 5xx
// keeping it, a logout during a refresh staying a logout, and retry-on-401 for
// GET /auth/profile?refresh=1.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "browser.hpp"
#include "stack_suite.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::Stack;
using testutil::StackOptions;

namespace {

// The refresh token the provider's token endpoint saw last ("" when none).
std::string last_refresh_token(Stack& stack) {
  std::string stats = stack.provider_call("GET", "/_dev/stats");
  std::smatch m;
  if (std::regex_search(stats, m, std::regex("\"refresh_token\": \"([^\"]+)\""))) return m[1];
  return "";
}

// Tokens live 30 s at the dev provider: always within a minute of expiry, so every
// provider call refreshes first, and a token still works when it is used.
class Refresh : public testutil::StackSuite<Refresh> {
public:
  static StackOptions stack_options() {
    StackOptions o;
    o.provider_args = {"--token-ttl", "30"};
    // Long enough for a token endpoint slower than the lock's first lease (5 s).
    o.http_section = "[http]\nconnect_timeout_ms = 1000\ntimeout_ms = 9000\n";
    return o;
  }

protected:
  Page refresh(Browser& b) { return b.get(base() + "/auth/profile?refresh=1"); }
  // Two browsers with one session cookie ask for ?refresh=1 at the same moment.
  std::pair<Page, Page> two_at_once(Browser& b) {
    Browser other;
    other.set_cookie("127.0.0.1", "oauth_session", b.cookie("oauth_session"));
    Page first, second;
    std::thread t([&] { first = refresh(b); });
    second = refresh(other);
    t.join();
    return {first, second};
  }
  // two_at_once while the token endpoint takes `ms` to answer: both must succeed on
  // exactly one provider refresh. Returns both pages for further checks.
  std::pair<Page, Page> two_at_once_with_a_slow_token_endpoint(Browser& b, int ms) {
    int refreshes = stack_->provider_count("refresh");
    stack_->provider_call("POST", "/_dev/fault?endpoint=token&mode=slow&ms=" + std::to_string(ms));
    auto pages = two_at_once(b);
    EXPECT_EQ(pages.first.status, 200) << pages.first.body;
    EXPECT_EQ(pages.second.status, 200) << pages.second.body;
    EXPECT_EQ(stack_->provider_count("refresh"), refreshes + 1);
    return pages;
  }
};

// No expiry in sight (generic tokens live an hour; GitHub's OAuth-app tokens never
// expire): a refresh happens only when the provider refuses the token.
class RetryOn401 : public testutil::StackSuite<RetryOn401> {
protected:
  void refuse_token(const std::string& endpoint, int times) {
    stack_->provider_call("POST", "/_dev/fault?endpoint=" + endpoint +
                                      "&mode=invalid_token&count=" + std::to_string(times));
  }
};

// GitLab at the OIDC emulator: rotated refresh tokens, an ID token in every refresh answer.
class OidcRefresh : public testutil::OidcStackSuite<OidcRefresh> {
protected:
  int gitlab_count(const std::string& name) { return stack_->emulator_count("gitlab", name); }
};

} // namespace

TEST_F(Refresh, RotatedPairIsStoredAndTheOldRefreshTokenIsRefused) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  int refreshes = stack_->provider_count("refresh");
  Page first = refresh(b);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find(R"("login":"octocat")"), std::string::npos) << first.body;
  EXPECT_NE(first.body.find(R"("valid":true)"), std::string::npos) << first.body;
  std::string original = last_refresh_token(*stack_);
  ASSERT_FALSE(original.empty());
  // The next refresh sends the rotated refresh token: the new pair was stored.
  Page second = refresh(b);
  ASSERT_EQ(second.status, 200) << second.body;
  std::string rotated = last_refresh_token(*stack_);
  EXPECT_FALSE(rotated.empty());
  EXPECT_NE(rotated, original);
  EXPECT_EQ(stack_->provider_count("refresh"), refreshes + 2);
  // The provider refuses the old one (and, as RFC 9700 asks, revokes the grant).
  Browser attacker;
  Page reuse = attacker.request("POST", stack_->provider() + "/oauth2/token",
                                {"Content-Type: application/x-www-form-urlencoded"},
                                "grant_type=refresh_token&refresh_token=" + testutil::escape(original) +
                                    "&client_id=dev-client&client_secret=dev-secret");
  EXPECT_EQ(reuse.status, 400);
  EXPECT_NE(reuse.body.find("invalid_grant"), std::string::npos) << reuse.body;
  // No token value ever reaches the browser or the logs.
  EXPECT_EQ(second.body.find(rotated), std::string::npos);
  EXPECT_EQ(stack_->program_logs().find(original), std::string::npos);
  EXPECT_EQ(stack_->program_logs().find(rotated), std::string::npos);
}

TEST_F(Refresh, GithubExpiringTokensAreRefreshedTheWayGithubWants) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "github").status, 302);
  int refreshes = stack_->provider_count("refresh");
  Page page = refresh(b);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find(R"("login":"octocat")"), std::string::npos) << page.body;
  EXPECT_EQ(stack_->provider_count("refresh"), refreshes + 1);
  std::string stats = stack_->provider_call("GET", "/_dev/stats");
  for (const char* sent : {R"("grant_type": "refresh_token")", R"("client_id": "github-client")",
                           R"("refresh_token": "ghr_)", R"("accept": "application/json")"})
    EXPECT_NE(stats.find(sent), std::string::npos) << sent << " in " << stats;
  // GitHub revokes the old access token on refresh: the user call above used the new one.
  EXPECT_EQ(refresh(b).status, 200);
}

TEST_F(Refresh, TwoConcurrentRefreshesOfOneSessionMakeOneProviderCall) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  auto [first, second] = two_at_once_with_a_slow_token_endpoint(b, 1500);
  // Both answered with the same, refreshed, token's expiry.
  auto expiry = [](const Page& p) { return p.body.substr(p.body.find(R"("expires_at":)")); };
  EXPECT_EQ(expiry(first), expiry(second));
  EXPECT_EQ(refresh(b).status, 200) << "the stored pair is the rotated one";
}

TEST_F(Refresh, RefreshSlowerThanTheFirstLeaseIsStillMadeOnce) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  // 6.5 s > the 5 s lease: only the owner's heartbeat keeps the others waiting.
  two_at_once_with_a_slow_token_endpoint(b, 6500);
}

TEST_F(Refresh, InvalidGrantEndsTheSession) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  stack_->provider_call("POST", "/_dev/expire?kind=refresh");
  Page page = refresh(b);
  EXPECT_EQ(page.status, 401) << page.body;
  EXPECT_EQ(page.header("content-type").rfind("application/json", 0), 0u) << page.header("content-type");
  EXPECT_NE(stack_->program_logs().find("dev ended the sign-in (invalid_grant)"), std::string::npos);
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401) << "the session is gone";
  EXPECT_EQ(b.get(base() + "/private/").status, 302) << "back to the login";
}

// A logout while the refresh's token call is held (a slow token endpoint), then the
// answer: the refresh does not bring the session back, and its cookie is refused.
TEST_F(Refresh, LogoutWhileATokenRefreshIsInFlightIsNotUndone) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  int refreshes = stack_->provider_count("refresh");
  stack_->provider_call("POST", "/_dev/fault?endpoint=token&mode=slow&ms=1500");
  Page during;
  std::thread t([&] { during = refresh(b); });
  // The fault is taken when the token request arrives: from then on it is held.
  bool held = testutil::wait_until(
      [&] { return stack_->provider_call("GET", "/_dev/fault").find("\"token\"") == std::string::npos; });
  Browser other;
  other.set_cookie("127.0.0.1", "oauth_session", b.cookie("oauth_session"));
  Page out = other.request("POST", base() + "/auth/logout", {"Origin: " + base()});
  t.join();
  ASSERT_TRUE(held);
  EXPECT_EQ(out.status, 303) << out.body;
  EXPECT_EQ(during.status, 401) << during.body;
  EXPECT_EQ(stack_->provider_count("refresh"), refreshes + 1);
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401) << "the logged-out cookie signs in again";
  std::string dump = stack_->redis().dump_all();
  EXPECT_FALSE(std::regex_search(dump, std::regex("(^|\n)session:"))) << dump;
}

TEST_F(Refresh, ProviderErrorDuringRefreshIs502AndKeepsTheSession) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  fault("token", "500");
  Page page = refresh(b);
  EXPECT_EQ(page.status, 502) << page.body;
  expect_logged_not_shown(page, "HTTP 500");
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 200);
  EXPECT_EQ(b.get(base() + "/private/").status, 200);
  EXPECT_EQ(refresh(b).status, 200) << "the refresh token still works";
}

TEST_F(RetryOn401, PlainProfileCallsNoProvider) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  int userinfo = stack_->provider_count("userinfo"), token = stack_->provider_count("token");
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 200);
  EXPECT_EQ(stack_->provider_count("userinfo"), userinfo);
  EXPECT_EQ(stack_->provider_count("token"), token);
}

TEST_F(RetryOn401, TokenRefusedOnceIsRefreshedAndTheCallRetried) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  int refreshes = stack_->provider_count("refresh"), userinfo = stack_->provider_count("userinfo");
  refuse_token("userinfo", 1);
  Page page = b.get(base() + "/auth/profile?refresh=1");
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(stack_->provider_count("refresh"), refreshes + 1);
  EXPECT_EQ(stack_->provider_count("userinfo"), userinfo + 2);
}

TEST_F(RetryOn401, TokenExpiredAtTheProviderBeforeItsTimeIsRefreshed) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  int refreshes = stack_->provider_count("refresh");
  stack_->provider_call("POST", "/_dev/expire?kind=access");
  Page page = b.get(base() + "/auth/profile?refresh=1");
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(stack_->provider_count("refresh"), refreshes + 1);
}

TEST_F(RetryOn401, TokenRefusedTwiceEndsTheSession) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "dev").status, 302);
  int refreshes = stack_->provider_count("refresh"), userinfo = stack_->provider_count("userinfo");
  refuse_token("userinfo", 2);
  Page page = b.get(base() + "/auth/profile?refresh=1");
  EXPECT_EQ(page.status, 401) << page.body;
  EXPECT_EQ(stack_->provider_count("refresh"), refreshes + 1) << "one refresh";
  EXPECT_EQ(stack_->provider_count("userinfo"), userinfo + 2) << "one retry";
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401);
}

TEST_F(RetryOn401, RevokedGithubAppTokenWithoutRefreshEndsTheSession) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "github").status, 302);
  int refreshes = stack_->provider_count("refresh");
  refuse_token("user", 1);
  Page page = b.get(base() + "/auth/profile?refresh=1");
  EXPECT_EQ(page.status, 401) << page.body;
  EXPECT_EQ(stack_->provider_count("refresh"), refreshes) << "an OAuth app's token has no refresh token";
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401);
}

TEST_F(OidcRefresh, RefreshedIdTokenIsVerifiedAndTheUserFetchedAgain) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "gitlab", "", "&dev_user=alice").status, 302);
  int refreshes = gitlab_count("refresh"), id_tokens = gitlab_count("id_tokens");
  stack_->emulator_call("POST", "/_dev/expire?kind=access&flavor=gitlab");
  Page page = b.get(base() + "/auth/profile?refresh=1");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find(R"("provider":"gitlab","id":"1001","login":"alice")"), std::string::npos)
      << page.body;
  EXPECT_EQ(gitlab_count("refresh"), refreshes + 1);
  EXPECT_EQ(gitlab_count("id_tokens"), id_tokens + 1);
  EXPECT_EQ(stack_->program_logs().find("id_token_refused"), std::string::npos);
}

TEST_F(OidcRefresh, RefreshedIdTokenThatFailsVerificationIsNotKept) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "gitlab", "", "&dev_user=alice").status, 302);
  stack_->emulator_call("POST", "/_dev/fault?flavor=gitlab&mode=wrong_aud");
  stack_->emulator_call("POST", "/_dev/expire?kind=access&flavor=gitlab");
  Page page = b.get(base() + "/auth/profile?refresh=1");
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_NE(stack_->program_logs().find("id_token_refused"), std::string::npos);
  EXPECT_EQ(b.get(base() + "/auth/profile?refresh=1").status, 200);
}
