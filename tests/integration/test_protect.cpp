// Who may sign in and who may pass /auth/check: each access rule allowing and
// denying at the callback, a changed rule refusing an existing session at the
// check, and idle and absolute session expiry — through a real nginx.
#include <gtest/gtest.h>

#include <thread>

#include "browser.hpp"
#include "stack.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::Stack;
using testutil::StackOptions;

namespace {

StackOptions with_rules(const std::string& access, const std::string& github = "") {
  StackOptions o;
  if (!access.empty()) o.extra_config = "[access]\n" + access;
  o.github_section = github;
  return o;
}

// Signs in as dev_user `who` at GitHub; true when a session was made.
bool signs_in(Stack& stack, const std::string& who, Page* answer = nullptr) {
  Browser b;
  Page done = stack.login(b, "github", "", "&dev_user=" + who);
  if (answer) *answer = done;
  return done.status == 302 && b.get(stack.base() + "/auth/profile").status == 200;
}

} // namespace

TEST(Access, AllowedEmailsAdmitOnlyThoseAddresses) {
  Stack stack(with_rules("allowed_emails = Alice@Example.com other@example.net\n"));
  EXPECT_TRUE(signs_in(stack, "alice")) << "case-insensitive";
  Page refused;
  EXPECT_FALSE(signs_in(stack, "octocat", &refused));
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("not allowed"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.header("set-cookie").find("oauth_session="), std::string::npos) << "no session cookie";
  EXPECT_NE(stack.program_logs().find("event=access_denied provider=github user=octocat"), std::string::npos);
}

TEST(Access, AllowedDomainsAdmitTheirEmailDomain) {
  Stack stack(with_rules("allowed_domains = example.com\n"));
  EXPECT_TRUE(signs_in(stack, "alice"));
  EXPECT_FALSE(signs_in(stack, "octocat")) << "octocat@github.example";
  EXPECT_FALSE(signs_in(stack, "bob")) << "bob's example.org address is unverified: no email at all";
}

TEST(Access, AllowedUsersAdmitLogins) {
  Stack stack(with_rules("allowed_users = github:OctoCat\n"));
  EXPECT_TRUE(signs_in(stack, "octocat"));
  EXPECT_FALSE(signs_in(stack, "alice"));
}

// Issue 18 item 2: alice's id is 1001 at GitHub. An entry "1001" is a login, never
// that id; and an [access] entry admits only through the provider it names.
TEST(Access, AllowedUsersNeverMixLoginsIdsOrProviders) {
  Stack stack(with_rules("", "allowed_users = 1001\n"));
  EXPECT_FALSE(signs_in(stack, "alice")) << "1001 names a login, not alice's id";
  stack.reconfigure(with_rules("", "allowed_users = id:1001\n"));
  EXPECT_TRUE(signs_in(stack, "alice"));
  EXPECT_FALSE(signs_in(stack, "octocat"));

  stack.reconfigure(with_rules("allowed_users = github:alice github:id:583231\n"));
  EXPECT_TRUE(signs_in(stack, "alice"));
  EXPECT_TRUE(signs_in(stack, "octocat")) << "by its id";
  Browser dev;
  EXPECT_EQ(stack.login(dev, "dev", "", "&dev_user=alice").status, 403)
      << "the dev provider's alice is another account";
}

TEST(Access, GithubOrgsAreReadAtSignInWithReadOrg) {
  Stack stack(with_rules("github_orgs = acme\n"));
  Browser b;
  Page connect = b.get(stack.base() + "/auth/connect/github");
  EXPECT_NE(connect.location().find("read%3aorg"), std::string::npos) << connect.location();
  EXPECT_TRUE(signs_in(stack, "alice")) << "alice's acme membership is private: read:org shows it";
  EXPECT_FALSE(signs_in(stack, "octocat"));
  EXPECT_GE(stack.provider_count("orgs"), 2);
}

TEST(Access, ProviderRulesApplyOnTopOfTheGlobalOnes) {
  // Globally example.com; at GitHub only alice of them.
  Stack stack(with_rules("allowed_domains = example.com github.example\n", "allowed_users = alice\n"));
  EXPECT_TRUE(signs_in(stack, "alice"));
  EXPECT_FALSE(signs_in(stack, "octocat")) << "the global rule admits github.example, GitHub's own does not";
  Browser dev;
  EXPECT_EQ(stack.login(dev, "dev", "", "&dev_user=octocat").status, 302)
      << "other providers: global rules only";
}

TEST(Access, ChangedRuleRefusesAnExistingSessionAtTheCheck) {
  Stack stack;
  Browser b;
  ASSERT_EQ(stack.login(b, "github").status, 302);
  EXPECT_EQ(b.get(stack.base() + "/private/x").status, 200);
  stack.reconfigure(with_rules("allowed_users = github:alice\n"));
  Page page = b.get(stack.base() + "/private/x");
  EXPECT_EQ(page.status, 403) << page.body;
  EXPECT_EQ(page.body.find("user="), std::string::npos) << "the upstream was not reached";
  stack.reconfigure(with_rules(""));
  EXPECT_EQ(b.get(stack.base() + "/private/x").status, 200) << "the session itself was kept";
}

TEST(Access, ProtectedLocationHandsIdentityOnlyFromTheCheck) {
  Stack stack;
  Browser b;
  Page stranger = b.get(stack.base() + "/private/doc?a=1&b=2");
  EXPECT_EQ(stranger.status, 302);
  EXPECT_EQ(stranger.location(), stack.base() + "/auth/connect?return_to=%2Fprivate%2Fdoc%3Fa%3D1%26b%3D2");
  ASSERT_EQ(
      stack.login(b, "github", "?return_to=%2Fprivate%2Fdoc%3Fa%3D1%26b%3D2", "&dev_user=alice").location(),
      stack.base() + "/private/doc?a=1&b=2");
  Page page =
      b.get(stack.base() + "/private/doc?a=1&b=2",
            {"X-Auth-User: mallory", "X-Auth-Email: mallory@evil.example", "X-Auth-Provider: forged",
             "X-Auth-Login: mallory", "X-Auth-Id: 666", "X-Auth-Name: mallory", "X_Auth_User: mallory"});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("user=alice email=alice@example.com provider=github uri=/private/doc?a=1&b=2 "
                           "login=alice id=1001 name=Alice Example\n"),
            std::string::npos)
      << page.body;
  EXPECT_EQ(page.body.find("mallory"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("forged"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("666"), std::string::npos) << page.body;
}

TEST(SessionExpiry, IdleTimeoutEndsAnUnusedSessionAndUseKeepsItAlive) {
  StackOptions o;
  o.session_section = "[session]\nidle_timeout = 2\nttl = 60\n";
  Stack stack(o);
  Browser used, idle;
  ASSERT_EQ(stack.login(used, "github").status, 302);
  ASSERT_EQ(stack.login(idle, "github").status, 302);
  // `used` is seen every half second for three seconds; `idle` is not.
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(3000)) {
    ASSERT_EQ(used.get(stack.base() + "/private/x").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(idle.get(stack.base() + "/auth/profile").status, 401);
  EXPECT_EQ(used.get(stack.base() + "/auth/profile").status, 200);
}

TEST(SessionExpiry, AbsoluteTtlEndsASessionInUse) {
  StackOptions o;
  o.session_section = "[session]\nidle_timeout = 60\nttl = 2\n";
  Stack stack(o);
  Browser b;
  ASSERT_EQ(stack.login(b, "github").status, 302);
  EXPECT_EQ(b.get(stack.base() + "/private/x").status, 200);
  // Used all along, and still over after its two seconds.
  bool ended = testutil::wait_until([&] { return b.get(stack.base() + "/private/x").status == 302; },
                                    std::chrono::seconds(6));
  EXPECT_TRUE(ended);
  EXPECT_EQ(b.get(stack.base() + "/auth/profile").status, 401);
}
