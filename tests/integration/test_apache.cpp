// The programs behind a real Apache, the ways README "Deploying behind Apache" and
// conf/apache/ give: mod_proxy_fcgi to programs on unix sockets, mod_fcgid starting
// them, mod_cgid running them as CGI; and a location protected by oauth-check as a
// mod_authnz_fcgi authorizer. The whole sign-in each way, with a cookie jar.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>

#include "apache.hpp"
#include "browser.hpp"

using testutil::ApacheMode;
using testutil::ApacheStack;
using testutil::Browser;
using testutil::Page;

namespace {

constexpr auto npos = std::string::npos;

// Prints the programs' and Apache's logs when a test failed.
void print_logs_on_failure(const ApacheStack* apache) {
  if (apache && ::testing::Test::HasFailure())
    std::cerr << "---- program and apache2 logs ----\n" << apache->logs().substr(0, 20000);
}

// What a browser does: the chooser, connect -> provider -> callback back on the page
// it asked for, the profile, the protected page, then sign-out, after which neither
// the profile nor the page is served.
void expect_whole_sign_in(ApacheStack& apache) {
  Browser b;
  Page chooser = b.get(apache.base() + "/auth/connect?return_to=%2Fprivate%2Fwhoami");
  EXPECT_EQ(chooser.status, 302) << "one provider: straight to it";
  EXPECT_NE(chooser.location().find("/auth/connect/github?return_to=%2Fprivate%2Fwhoami"), npos)
      << chooser.location();

  Page done = apache.login(b, "?return_to=%2Fprivate%2Fwhoami%3Fx%3D1", "&dev_user=alice");
  ASSERT_EQ(done.status, 302) << done.body;
  EXPECT_EQ(done.location(), apache.base() + "/private/whoami?x=1");
  EXPECT_NE(done.header("set-cookie").find("oauth_session="), npos);

  Page profile = b.get(apache.base() + "/auth/profile");
  EXPECT_EQ(profile.status, 200) << profile.body;
  EXPECT_EQ(profile.header("content-type"), "application/json");
  EXPECT_NE(profile.body.find("\"login\":\"alice\""), npos) << profile.body;
  EXPECT_NE(profile.body.find("\"email\":\"alice@example.com\""), npos) << profile.body;

  Page page = b.get(done.location());
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("REMOTE_USER=alice\n"), npos) << page.body;

  Page out = b.request("POST", apache.base() + "/auth/logout");
  EXPECT_EQ(out.status, 303) << out.body;
  EXPECT_EQ(b.get(apache.base() + "/auth/profile").status, 401);
  EXPECT_EQ(b.get(apache.protected_page()).status, 401);
}

} // namespace

TEST(ApacheProxyFcgi, WholeSignInThroughUnixSockets) {
  ApacheStack apache(ApacheMode::proxy_fcgi);
  expect_whole_sign_in(apache);
  // Each route reached its own program (mod_proxy shares one pool between backends
  // of the same fcgi:// name, whatever their sockets).
  std::istringstream logs(apache.logs());
  int answered = 0;
  for (std::string line; std::getline(logs, line);) {
    size_t at = line.find(" route=/auth/");
    if (at == npos) continue;
    at += 13;
    std::string program = line.substr(at, line.find_first_of("/ ", at) - at);
    EXPECT_NE(line.find(" oauth-" + program + " req="), npos) << line;
    ++answered;
  }
  EXPECT_GE(answered, 6); // connect twice, callback, profile twice, logout
  print_logs_on_failure(&apache);
}

TEST(ApacheFcgid, WholeSignInWithProgramsModFcgidStarts) {
  ApacheStack apache(ApacheMode::fcgid);
  expect_whole_sign_in(apache);
  // mod_fcgid started them, each with its listening socket as fd 0.
  std::string logs = apache.logs();
  for (const char* program : {"oauth-connect", "oauth-callback", "oauth-profile", "oauth-logout"})
    EXPECT_NE(logs.find(std::string(program) + " event=started mode=inherited threads=1"), npos) << program;
  print_logs_on_failure(&apache);
}

TEST(ApacheCgi, WholeSignInAsPlainCgi) {
  ApacheStack apache(ApacheMode::cgi);
  expect_whole_sign_in(apache);
  // One process per request, which logs to Apache's error log and never "starts".
  std::string logs = apache.logs();
  EXPECT_NE(logs.find("oauth-callback req="), npos);
  EXPECT_EQ(logs.find("oauth-callback event=started"), npos);
  // Apache turns a query without '=' into arguments: they are not options.
  Browser b;
  EXPECT_EQ(b.get(apache.base() + "/auth/connect/github?--listen+127.0.0.1:1").status, 302);
  print_logs_on_failure(&apache);
}

// oauth-check as mod_authnz_fcgi's authorizer for /private/ (conf/apache/oauth-fcgi-authz.conf),
// one Apache for the suite.
class ApacheAuthorizer : public ::testing::Test {
protected:
  static void SetUpTestSuite() { apache_ = new ApacheStack(ApacheMode::proxy_fcgi); }
  static void TearDownTestSuite() {
    delete apache_;
    apache_ = nullptr;
  }
  void TearDown() override { print_logs_on_failure(apache_); }
  static ApacheStack* apache_;
};

ApacheStack* ApacheAuthorizer::apache_ = nullptr;

TEST_F(ApacheAuthorizer, SignedInPageGetsTheIdentityFromOauthCheckOnly) {
  Browser b;
  ASSERT_EQ(apache_->login(b, "", "&dev_user=alice").status, 302);
  Page page = b.get(apache_->protected_page() + "?a=1",
                    {"X-Auth-User: mallory", "X-Auth-Email: mallory@evil.example", "X-Auth-Provider: forged",
                     "Variable-REMOTE_USER: mallory", "Remote-User: mallory"});
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body,
            "REMOTE_USER=alice\nAUTH_EMAIL=alice@example.com\nAUTH_LOGIN=alice\nAUTH_PROVIDER=github\n"
            "HTTP_X_AUTH_USER=alice\nHTTP_X_AUTH_EMAIL=alice@example.com\nHTTP_X_AUTH_LOGIN=alice\n"
            "HTTP_X_AUTH_PROVIDER=github\nREQUEST_URI=/private/whoami?a=1\n");
  // What oauth-check told Apache about the user stays between them; its hardening
  // headers come along.
  for (const char* name :
       {"x-auth-user", "x-auth-email", "x-auth-login", "x-auth-provider", "variable-remote_user"})
    EXPECT_EQ(page.header(name), "") << name;
  EXPECT_EQ(page.header("cache-control"), "no-store");
  EXPECT_EQ(page.header("x-frame-options"), "DENY");
}

TEST_F(ApacheAuthorizer, NoSessionIs401WhosePageLeadsToTheSignInAndBack) {
  Browser b;
  auto start = std::chrono::steady_clock::now();
  Page refused = b.get(apache_->protected_page() + "?a=1&b=%2F", {"X-Auth-User: mallory"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(refused.status, 401) << refused.body;
  // mod_authnz_fcgi sends an authorizer no FCGI_STDIN; waiting for one would hold
  // the answer until Apache gives up (30 s, then 500).
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_EQ(refused.body.find("REMOTE_USER="), npos) << "the page did not run";
  std::string login = "/auth/connect?return_to=%2Fprivate%2Fwhoami%3Fa%3D1%26b%3D%252F";
  EXPECT_EQ(refused.header("x-auth-redirect"), login);
  EXPECT_NE(refused.body.find("<meta http-equiv=refresh content='0; url=" + login + "'>"), npos)
      << refused.body;
  EXPECT_NE(refused.body.find("<a href='" + login + "'>"), npos) << refused.body;

  // Where that page sends the browser: the provider, and back to the very page.
  Page landed = b.follow(b.get(apache_->base() + login), apache_->base());
  EXPECT_EQ(landed.status, 200) << landed.body;
  EXPECT_NE(landed.body.find("REMOTE_USER=octocat\n"), npos) << landed.body;
  EXPECT_NE(landed.body.find("REQUEST_URI=/private/whoami?a=1&b=%2F\n"), npos) << landed.body;
}

TEST_F(ApacheAuthorizer, MadeUpOrEndedSessionsAre401) {
  Browser forged;
  forged.set_cookie("127.0.0.1", "oauth_session", std::string(43, 'x'));
  EXPECT_EQ(forged.get(apache_->protected_page()).status, 401);

  Browser b;
  ASSERT_EQ(apache_->login(b).status, 302);
  std::string session = b.cookie("oauth_session");
  ASSERT_EQ(b.get(apache_->protected_page()).status, 200);
  ASSERT_EQ(b.request("POST", apache_->base() + "/auth/logout").status, 303);
  Browser replay; // the old cookie, kept by someone
  replay.set_cookie("127.0.0.1", "oauth_session", session);
  EXPECT_EQ(replay.get(apache_->protected_page()).status, 401);
}

// Authoritative On: whatever oauth-check answers besides 200 is Apache's answer.
TEST(ApacheAuthorizerVerdicts, RefusedByARuleIs403AndRedisDownIs503) {
  ApacheStack apache(ApacheMode::proxy_fcgi);
  Browser b;
  ASSERT_EQ(apache.login(b).status, 302); // octocat
  ASSERT_EQ(b.get(apache.protected_page()).status, 200);

  apache.restart_check("\n[access]\nallowed_users = alice\n");
  Page refused = b.get(apache.protected_page());
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body.find("REMOTE_USER="), npos) << "the page did not run";
  apache.restart_check("");
  EXPECT_EQ(b.get(apache.protected_page()).status, 200) << "the session itself was kept";

  apache.redis().stop();
  Page down = b.get(apache.protected_page());
  EXPECT_EQ(down.status, 503) << "not a sign-in page: the session may well be valid";
  EXPECT_EQ(down.body.find("REMOTE_USER="), npos);
  apache.redis().start();
  EXPECT_EQ(b.get(apache.protected_page()).status, 401) << "this Redis forgot the session";
  print_logs_on_failure(&apache);
}
