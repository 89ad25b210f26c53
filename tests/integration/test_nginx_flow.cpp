// The five programs behind a real nginx with a real Redis and the dev provider:
// the whole login with a cookie jar, every status code the contract names, and
// the attacks on state and return_to.
#include <gtest/gtest.h>

#include <strings.h>

#include <fstream>
#include <thread>

#include "browser.hpp"
#include "stack_suite.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::query_value;
using testutil::Stack;

namespace {

class NginxFlow : public testutil::StackSuite<NginxFlow> {
protected:
  Page login(Browser& b, const std::string& provider = "github", const std::string& query = "",
             const std::string& provider_extra = "") {
    return stack_->login(b, provider, query, provider_extra);
  }
};

} // namespace

TEST_F(NginxFlow, GithubLoginEndsSignedInWithTheProfile) {
  Browser b;
  Page done = login(b, "github", "?return_to=%2Fprivate%2Fpage");
  ASSERT_EQ(done.status, 302) << done.body;
  EXPECT_EQ(done.location(), base() + "/private/page");
  Page profile = b.get(base() + "/auth/profile");
  EXPECT_EQ(profile.status, 200);
  EXPECT_EQ(profile.header("content-type"), "application/json");
  EXPECT_NE(profile.body.find("\"login\":\"octocat\""), std::string::npos) << profile.body;
  EXPECT_NE(profile.body.find("\"email\":\"octocat@github.example\""), std::string::npos) << profile.body;
  EXPECT_EQ(profile.header("cache-control"), "no-store");
  EXPECT_EQ(profile.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(profile.header("x-frame-options"), "DENY");
}

TEST_F(NginxFlow, GenericOauth2LoginWorks) {
  Browser b;
  Page done = login(b, "dev", "", "&dev_user=alice");
  ASSERT_EQ(done.status, 302) << done.body;
  Page profile = b.get(base() + "/auth/profile");
  EXPECT_EQ(profile.status, 200);
  EXPECT_NE(profile.body.find("\"provider\":\"dev\""), std::string::npos) << profile.body;
  EXPECT_NE(profile.body.find("\"email\":\"alice@example.com\""), std::string::npos) << profile.body;
}

TEST_F(NginxFlow, ConnectSendsStatePkceAndTheExactRedirectUri) {
  Browser b;
  Page connect = b.get(base() + "/auth/connect/github");
  ASSERT_EQ(connect.status, 302);
  std::string to = connect.location();
  EXPECT_EQ(to.rfind(stack_->provider() + "/github/login/oauth/authorize?", 0), 0u) << to;
  EXPECT_EQ(query_value(to, "code_challenge_method"), "S256");
  EXPECT_EQ(query_value(to, "state").size(), 43u);
  std::string sent = query_value(to, "redirect_uri"),
              want = testutil::escape(base() + "/auth/callback/github");
  EXPECT_TRUE(strcasecmp(sent.c_str(), want.c_str()) == 0) << sent; // %3a and %3A are the same escape
  EXPECT_EQ(connect.header("referrer-policy"), "no-referrer");
  EXPECT_NE(connect.header("set-cookie").find("oauth_session_bind="), std::string::npos);
}

TEST_F(NginxFlow, ChooserListsBothProviders) {
  Browser b;
  Page chooser = b.get(base() + "/auth/connect");
  EXPECT_EQ(chooser.status, 200);
  EXPECT_NE(chooser.body.find("/auth/connect/github"), std::string::npos);
  EXPECT_NE(chooser.body.find("/auth/connect/dev"), std::string::npos);
}

TEST_F(NginxFlow, ProtectedLocationSendsStrangersToLoginAndFriendsThrough) {
  Browser b;
  Page denied = b.get(base() + "/private/doc?x=1", {"X-Auth-User: forged"});
  ASSERT_EQ(denied.status, 302);
  EXPECT_EQ(denied.location(), base() + "/auth/connect?return_to=%2Fprivate%2Fdoc%3Fx%3D1");
  Page chooser = b.follow(denied, base(), 1);
  EXPECT_EQ(chooser.status, 200);
  // Sign in from where the 401 sent us, and land back on the page.
  Page done = login(b, "github", "?return_to=%2Fprivate%2Fdoc%3Fx%3D1");
  EXPECT_EQ(done.location(), base() + "/private/doc?x=1");
  Page page = b.get(base() + "/private/doc?x=1", {"X-Auth-User: forged"});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("user=octocat "), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("forged"), std::string::npos) << page.body;
}

TEST_F(NginxFlow, ReplayedStateIs400WithoutASecondTokenRequest) {
  Browser b;
  Page connect = b.get(base() + "/auth/connect/github");
  Page authorize = b.get(connect.location());
  std::string callback = authorize.location();
  int before = stack_->provider_count("token");
  EXPECT_EQ(b.get(callback).status, 302);
  Page again = b.get(callback);
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("/auth/connect"), std::string::npos) << "the page links to a new start";
  EXPECT_EQ(stack_->provider_count("token"), before + 1);
}

TEST_F(NginxFlow, CallbackRefusals) {
  Browser b;
  Page connect = b.get(base() + "/auth/connect/github");
  std::string state = query_value(connect.location(), "state");
  int before = stack_->provider_count("token");
  EXPECT_EQ(b.get(base() + "/auth/callback/github?code=x").status, 400);
  EXPECT_EQ(b.get(base() + "/auth/callback/github?state=" + state).status, 400);
  EXPECT_EQ(b.get(base() + "/auth/callback/github?code=x&code=y&state=" + state).status, 400);
  EXPECT_EQ(b.get(base() + "/auth/callback/github?code=x&state=" + std::string(43, 'A')).status, 400);
  Browser other; // another browser holding the victim's state
  EXPECT_EQ(other.get(base() + "/auth/callback/github?code=x&state=" + state).status, 400);
  Page connect2 = b.get(base() + "/auth/connect/github");
  EXPECT_EQ(
      b.get(base() + "/auth/callback/dev?code=x&state=" + query_value(connect2.location(), "state")).status,
      400);
  EXPECT_EQ(b.get(base() + "/auth/callback/nope?code=x&state=y").status, 404);
  EXPECT_EQ(stack_->provider_count("token"), before);
}

TEST_F(NginxFlow, UserSayingNoIs403) {
  Browser b;
  Page done = login(b, "github", "", "&dev_action=deny");
  EXPECT_EQ(done.status, 403);
  EXPECT_NE(done.body.find("cancelled"), std::string::npos) << done.body;
}

TEST_F(NginxFlow, UnknownProviderIs404AndWrongMethodsAre405) {
  Browser b;
  EXPECT_EQ(b.get(base() + "/auth/connect/nope").status, 404);
  EXPECT_EQ(b.get(base() + "/auth/logout").status, 405);
  EXPECT_EQ(b.request("POST", base() + "/auth/connect/github").status, 405);
}

TEST_F(NginxFlow, OversizedRequestsAre414And431And413) {
  Browser b;
  EXPECT_EQ(b.get(base() + "/auth/connect/github?return_to=%2F" + std::string(3000, 'a')).status, 414);
  EXPECT_EQ(b.get(base() + "/auth/profile", {"Cookie: big=" + std::string(3000, 'c')}).status, 431);
  EXPECT_EQ(b.request("POST", base() + "/auth/logout", {}, std::string(70000, 'x')).status, 413);
}

TEST_F(NginxFlow, ProfileWithoutSessionIs401Json) {
  Browser b;
  Page p = b.get(base() + "/auth/profile");
  EXPECT_EQ(p.status, 401);
  EXPECT_EQ(p.body, "{\"error\":\"unauthenticated\"}");
  b.set_cookie("127.0.0.1", "oauth_session", std::string(43, 'x'));
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401);
}

TEST_F(NginxFlow, LogoutEndsTheSessionAndRefusesOtherSites) {
  Browser b;
  ASSERT_EQ(login(b).status, 302);
  EXPECT_EQ(b.request("POST", base() + "/auth/logout", {"Origin: https://evil.example"}).status, 403);
  EXPECT_EQ(b.request("POST", base() + "/auth/logout", {"Sec-Fetch-Site: cross-site"}).status, 403);
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 200);
  Page out = b.request("POST", base() + "/auth/logout", {"Origin: " + base()});
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(out.location(), "/");
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401);
}

TEST_F(NginxFlow, ParallelLoginsInTwoTabsBothComplete) {
  Browser b;
  Page tab1 = b.get(base() + "/auth/connect/github?return_to=%2Fone");
  Page tab2 = b.get(base() + "/auth/connect/github?return_to=%2Ftwo");
  Page auth1 = b.get(tab1.location());
  Page auth2 = b.get(tab2.location());
  Page done2 = b.get(auth2.location());
  Page done1 = b.get(auth1.location());
  EXPECT_EQ(done2.status, 302);
  EXPECT_EQ(done2.location(), base() + "/two");
  EXPECT_EQ(done1.status, 302);
  EXPECT_EQ(done1.location(), base() + "/one");
}

TEST_F(NginxFlow, ProviderFailuresAre502AndSlownessIs504) {
  Browser b;
  stack_->provider_call("POST", "/_dev/fault?endpoint=token&mode=500");
  EXPECT_EQ(login(b).status, 502);
  stack_->provider_call("POST", "/_dev/fault?endpoint=user&mode=html");
  EXPECT_EQ(login(b).status, 502);
  stack_->provider_call("POST", "/_dev/fault?endpoint=token&mode=slow&ms=3000");
  EXPECT_EQ(login(b).status, 504);
}

TEST_F(NginxFlow, RedisDownIs503AndRecoversWithoutRestartingPrograms) {
  Browser b;
  ASSERT_EQ(login(b).status, 302);
  stack_->redis().stop();
  Page connect = b.get(base() + "/auth/connect/github");
  EXPECT_EQ(connect.status, 503);
  EXPECT_EQ(connect.location(), "");
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 503);
  Page check = b.get(base() + "/private/x");
  EXPECT_EQ(check.status, 500) << "nginx auth_request shows a 503 from the check as 500";
  stack_->redis().start();
  Browser fresh;
  Page done = login(fresh);
  EXPECT_EQ(done.status, 302) << done.body;
  EXPECT_EQ(fresh.get(base() + "/auth/profile").status, 200);
}

TEST_F(NginxFlow, LogsNameNoSecretTokenOrCookie) {
  Browser b;
  ASSERT_EQ(login(b).status, 302);
  std::string logs = stack_->program_logs();
  ASSERT_FALSE(logs.empty());
  std::string session = b.cookie("oauth_session");
  ASSERT_EQ(session.size(), 43u);
  EXPECT_EQ(logs.find(session), std::string::npos);
  EXPECT_EQ(logs.find("github-secret"), std::string::npos);
  EXPECT_EQ(logs.find("dev-secret"), std::string::npos);
  EXPECT_EQ(logs.find("gho_"), std::string::npos);
}
