// The github type through nginx + Redis against the GitHub emulator: what GitHub
// expects on the wire, and every way GitHub says no.
#include <gtest/gtest.h>

#include "browser.hpp"
#include "stack_suite.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::query_value;
using testutil::Stack;

namespace {

class Github : public testutil::StackSuite<Github> {
protected:
  Page login(Browser& b, const std::string& extra = "") { return stack_->login(b, "github", "", extra); }
};

} // namespace

TEST_F(Github, LoginSendsWhatGithubExpectsAndFillsTheProfile) {
  Browser b;
  Page done = login(b);
  ASSERT_EQ(done.status, 302) << done.body;
  std::string stats = stack_->provider_call("GET", "/_dev/stats");
  // The token POST asked for JSON; API calls named us and the API version.
  EXPECT_NE(stats.find("\"accept\": \"application/json\""), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"user-agent\": \"oauth-fcgi/"), std::string::npos) << stats;
  EXPECT_EQ(stack_->provider_count("emails"), stack_->provider_count("user"))
      << "octocat has no public email: each login read /user/emails";
  Page profile = b.get(base() + "/auth/profile");
  ASSERT_EQ(profile.status, 200);
  EXPECT_NE(profile.body.find(R"("provider":"github","id":"583231","login":"octocat","name":"The Octocat",)"
                              R"("email":"octocat@github.example","avatar_url":"https://avatars.)"),
            std::string::npos)
      << profile.body;
  // An OAuth app's token does not expire; its scopes are what GitHub granted.
  EXPECT_NE(
      profile.body.find(R"("token":{"expires_at":null,"valid":true,"scopes":["read:user","user:email"]})"),
      std::string::npos)
      << profile.body;
  EXPECT_EQ(profile.body.find("gho_"), std::string::npos);
}

TEST_F(Github, PublicEmailNeedsNoSecondCallAndUnverifiedIsNotAnEmail) {
  Browser alice;
  int emails = stack_->provider_count("emails");
  ASSERT_EQ(login(alice, "&dev_user=alice").status, 302);
  EXPECT_EQ(stack_->provider_count("emails"), emails);
  EXPECT_NE(alice.get(base() + "/auth/profile").body.find("\"email\":\"alice@example.com\""),
            std::string::npos);
  Browser bob;
  ASSERT_EQ(login(bob, "&dev_user=bob").status, 302);
  EXPECT_NE(bob.get(base() + "/auth/profile").body.find("\"email\":null"), std::string::npos);
}

TEST_F(Github, UserSayingNoIs403WithGithubsWordsInTheLogOnly) {
  Browser b;
  Page done = login(b, "&dev_action=deny");
  EXPECT_EQ(done.status, 403);
  EXPECT_NE(done.body.find("cancelled"), std::string::npos) << done.body;
  // Anyone can forge the error redirect: its words go to the log, never on our page.
  EXPECT_EQ(done.body.find("denied your application"), std::string::npos) << done.body;
  EXPECT_NE(stack_->program_logs().find("The user has denied your application access."), std::string::npos);
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401);
}

TEST_F(Github, BadCodeIs502NamingGithubsErrorCode) {
  Browser b;
  Page connect = b.get(base() + "/auth/connect/github");
  std::string state = query_value(connect.location(), "state");
  Page done = b.get(base() + "/auth/callback/github?code=0123456789abcdef0123&state=" + state);
  expect_502_saying(done, "bad_verification_code");
}

TEST_F(Github, ReusedCodeIs502) {
  Browser b;
  expect_502_saying(replay_code(b, "github"), "bad_verification_code");
}

TEST_F(Github, TokenRefusedAtUserIs502) {
  Browser b;
  fault("user", "invalid_token");
  expect_502_saying(login(b), "refused the access token (HTTP 401: Bad credentials)");
}

TEST_F(Github, ServerErrorsAndHtmlAre502) {
  Browser b;
  fault("token", "500");
  expect_502_saying(login(b), "token endpoint answered HTTP 500");
  fault("user", "500");
  expect_502_saying(login(b), "user endpoint answered HTTP 500");
  fault("token", "html");
  expect_502_saying(login(b), "token endpoint answered HTML where JSON was expected");
  fault("user", "html");
  expect_502_saying(login(b), "user endpoint answered HTML where JSON was expected");
  fault("user", "badjson");
  expect_502_saying(login(b), "answered something that is not JSON");
}

TEST_F(Github, ProviderThatNeverAnswersIs504) {
  Browser b;
  fault("token", "hang");
  EXPECT_EQ(login(b).status, 504);
  fault("user", "hang");
  Page done = login(b);
  EXPECT_EQ(done.status, 504);
  EXPECT_NE(done.body.find("Gateway Timeout"), std::string::npos) << done.body;
}

TEST_F(Github, RateLimitsAre502WithTheReason) {
  Browser b;
  fault("user", "ratelimit");
  expect_502_saying(login(b), "GitHub API rate limit exceeded (it resets at ");
  fault("user", "secondary");
  expect_502_saying(login(b), "GitHub secondary rate limit exceeded (retry after 60 s)");
}

TEST_F(Github, LogsNameTheProviderButNoSecretOrToken) {
  Browser b;
  fault("user", "invalid_token");
  ASSERT_EQ(login(b).status, 502);
  std::string logs = stack_->program_logs();
  EXPECT_NE(logs.find("github user endpoint refused the access token"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("github-secret"), std::string::npos);
  EXPECT_EQ(logs.find("gho_"), std::string::npos);
  EXPECT_EQ(logs.find("ghu_"), std::string::npos);
}

// A GitHub App's expiring user tokens: expires_in, refresh_token and
// refresh_token_expires_in are kept (encrypted) for the session lifecycle.
TEST(GithubExpiringTokens, ExpiryIsKeptWithTheSession) {
  testutil::StackOptions options;
  options.provider_args = {"--token-ttl", "28800"};
  Stack stack(options);
  Browser b;
  ASSERT_EQ(stack.login(b).status, 302);
  Page profile = b.get(stack.base() + "/auth/profile");
  ASSERT_EQ(profile.status, 200);
  auto at = profile.body.find("\"expires_at\":");
  ASSERT_NE(at, std::string::npos) << profile.body;
  long expires_at = std::stol(profile.body.substr(at + 13));
  long now = static_cast<long>(time(nullptr));
  EXPECT_GT(expires_at, now + 28000) << profile.body;
  EXPECT_LE(expires_at, now + 28800 + 5) << profile.body;
  EXPECT_EQ(profile.body.find("ghr_"), std::string::npos);
  // The refresh token is in Redis, sealed: no key or value shows a token in clear.
  std::string dump = stack.redis().dump_all();
  EXPECT_EQ(dump.find("ghr_"), std::string::npos);
  EXPECT_EQ(dump.find("ghu_"), std::string::npos);
}
