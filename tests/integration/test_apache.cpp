// The programs behind a real Apache, the ways README "Deploying behind Apache" and
// conf/apache/ give: mod_proxy_fcgi to programs on unix sockets, mod_fcgid starting
// them, mod_cgid running them as CGI; and a location protected by oauth-check as a
// mod_authnz_fcgi authorizer, over a few pages or over the whole site. The whole
// sign-in each way, with a cookie jar.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "apache.hpp"
#include "browser.hpp"
#include "json.hpp"

using testutil::ApacheMode;
using testutil::ApacheSite;
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

// /auth/api/ reaches oauth-api, which reads the path as sent: with no api_allow
// rule, its own JSON 403 not_allowed (not Apache's, not the sign-in page).
void expect_api_route_reaches_oauth_api(ApacheStack& apache, Browser& b) {
  Page api = b.get(apache.base() + "/auth/api/github/user/repos?page=2", {"X-CSRF: 1"});
  EXPECT_EQ(api.status, 403) << api.body;
  EXPECT_EQ(api.header("content-type"), "application/json") << api.body;
  EXPECT_NE(api.body.find("\"not_allowed\""), npos) << api.body;
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

  expect_api_route_reaches_oauth_api(apache, b);

  Page out = b.request("POST", apache.base() + "/auth/logout");
  EXPECT_EQ(out.status, 303) << out.body;
  EXPECT_EQ(b.get(apache.base() + "/auth/profile").status, 401);
  EXPECT_EQ(b.get(apache.protected_page()).status, 401);
}

// What oauth-check says of the dev provider's default user, octocat, as the protected
// CGI at /private/env sees it.
const char* const kOctocatEnv = "AUTH_EMAIL=octocat@github.example\n"
                                "AUTH_ID=583231\n"
                                "AUTH_LOGIN=octocat\n"
                                "AUTH_NAME=The Octocat\n"
                                "AUTH_PROVIDER=github\n"
                                "HTTP_X_AUTH_EMAIL=octocat@github.example\n"
                                "HTTP_X_AUTH_ID=583231\n"
                                "HTTP_X_AUTH_LOGIN=octocat\n"
                                "HTTP_X_AUTH_NAME=The Octocat\n"
                                "HTTP_X_AUTH_PROVIDER=github\n"
                                "HTTP_X_AUTH_USER=octocat\n"
                                "REMOTE_USER=octocat\n";

// Request headers by lower-case name.
using Headers = std::multimap<std::string, std::string>;

// The identity headers an upstream should get for octocat, each once.
const Headers kOctocatHeaders = {{"x-auth-user", "octocat"},  {"x-auth-email", "octocat@github.example"},
                                 {"x-auth-login", "octocat"}, {"x-auth-provider", "github"},
                                 {"x-auth-id", "583231"},     {"x-auth-name", "The Octocat"}};

// A client posing as someone: every identity header in every spelling a backend may
// read as it ("-" or "_" between the words).
std::vector<std::string> forged_identity_headers() {
  std::vector<std::string> forged = {"Variable-REMOTE_USER: mallory", "Remote-User: mallory"};
  for (const char* word : {"User", "Email", "Login", "Provider", "Id", "Name"})
    for (const char* first : {"-", "_"})
      for (const char* second : {"-", "_"})
        forged.push_back(std::string("X") + first + "Auth" + second + word + ": mallory");
  return forged;
}

// The request headers http_test_server.py's /echo received whose names read as
// X-Auth-* once "_" is taken for "-" (lower-cased name -> value; a name twice is
// kept twice).
Headers identity_headers_received(const std::string& echo) {
  Headers found;
  auto doc = oauthfcgi::json_parse(echo);
  if (!doc.ok()) {
    ADD_FAILURE() << "the upstream did not answer JSON: " << echo;
    return found;
  }
  const cJSON* headers = cJSON_GetObjectItemCaseSensitive(doc->get(), "headers");
  const cJSON* pair = nullptr;
  cJSON_ArrayForEach(pair, headers) {
    const char* name = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 0));
    const char* value = cJSON_GetStringValue(cJSON_GetArrayItem(pair, 1));
    if (!name || !value) continue;
    std::string normal = name;
    std::transform(normal.begin(), normal.end(), normal.begin(),
                   [](unsigned char c) { return c == '_' ? '-' : static_cast<char>(std::tolower(c)); });
    if (normal.rfind("x-auth-", 0) == 0) found.emplace(normal, value);
  }
  return found;
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

// An upstream behind ProxyPass gets each identity header once, oauth-check's value,
// and none of those the client sent, in no spelling.
TEST_F(ApacheAuthorizer, ProxiedUpstreamGetsTheIdentityFromOauthCheckOnly) {
  Browser b;
  ASSERT_EQ(apache_->login(b).status, 302); // octocat
  Page page = b.get(apache_->protected_upstream() + "?a=1", forged_identity_headers());
  ASSERT_EQ(page.status, 200) << page.body;
  Headers received = identity_headers_received(page.body);
  EXPECT_EQ(received, kOctocatHeaders);
  for (const auto& [name, value] : kOctocatHeaders)
    EXPECT_EQ(page.header(name), "") << name << " went back to the browser";
}

// The same for a CGI, in its environment: the Variable-* of oauth-check (AUTH_ID,
// AUTH_NAME too) and the headers set from them, nothing the client sent.
TEST_F(ApacheAuthorizer, CgiGetsTheIdentityFromOauthCheckOnly) {
  Browser b;
  ASSERT_EQ(apache_->login(b).status, 302); // octocat
  Page page = b.get(apache_->protected_env(), forged_identity_headers());
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, kOctocatEnv);
  for (const auto& [name, value] : kOctocatHeaders)
    EXPECT_EQ(page.header(name), "") << name << " went back to the browser";
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

  apache.restart_check("\n[access]\nallowed_users = github:alice\n");
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

// pass_access_token under the authorizer: the CGI gets AUTH_ACCESS_TOKEN from
// oauth-check's Variable-*; a proxied application gets no token header without the
// snippet's opt-in lines, and none of the client's, in any spelling; the browser never
// gets oauth-check's.
TEST(ApacheAuthorizerPassToken, TokenOnlyFromOauthCheckAndNeverBackToTheBrowser) {
  ApacheStack apache(ApacheMode::proxy_fcgi);
  apache.restart_check("pass_access_token = true\n"); // still in [provider github]
  Browser b;
  ASSERT_EQ(apache.login(b).status, 302); // octocat
  const std::vector<std::string> forged = {"X-Auth-Access-Token: forged", "X_Auth_Access_Token: forged",
                                           "X-Auth_Access-Token: forged", "X-Auth-Access-Token-Expires: 1",
                                           "Variable-AUTH_ACCESS_TOKEN: forged"};
  Page env = b.get(apache.protected_env(), forged);
  ASSERT_EQ(env.status, 200) << env.body;
  EXPECT_EQ(env.body.find("forged"), npos) << env.body;
  size_t at = env.body.find("AUTH_ACCESS_TOKEN=");
  ASSERT_NE(at, npos) << env.body;
  std::string token = env.body.substr(at + 18, env.body.find('\n', at) - at - 18);
  EXPECT_GE(token.size(), 20u) << env.body;
  EXPECT_EQ(env.body.find("HTTP_X_AUTH_ACCESS_TOKEN"), npos) << "no header without the opt-in: " << env.body;
  Page app = b.get(apache.protected_upstream(), forged);
  ASSERT_EQ(app.status, 200) << app.body;
  EXPECT_EQ(identity_headers_received(app.body), kOctocatHeaders) << app.body;
  for (const Page* page : {&env, &app}) {
    EXPECT_EQ(page->header("x-auth-access-token"), "");
    EXPECT_EQ(page->header("x-auth-access-token-expires"), "");
    EXPECT_EQ(page->header("variable-auth_access_token"), "");
  }
  EXPECT_EQ(apache.logs().find(token), npos) << "the token is in no log line";
  print_logs_on_failure(&apache);
}

namespace {

// The whole site behind oauth-fcgi-authz.conf: the sign-in routes stay open all the
// same, and everything else needs a user.
void expect_whole_site_sign_in(ApacheStack& apache) {
  Browser b;
  Page refused = b.get(apache.protected_env() + "?x=1", forged_identity_headers());
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_EQ(refused.body.find("REMOTE_USER="), npos) << "the page did not run";
  std::string login = "/auth/connect?return_to=%2Fprivate%2Fenv%3Fx%3D1";
  EXPECT_NE(refused.body.find("<meta http-equiv=refresh content='0; url=" + login + "'>"), npos)
      << refused.body;
  EXPECT_EQ(b.get(apache.protected_upstream()).status, 401);

  // The sign-in routes answer themselves, not with the sign-in page: oauth-profile's
  // own 401, in JSON; oauth-api's refusal.
  Page profile = b.get(apache.base() + "/auth/profile");
  EXPECT_EQ(profile.status, 401);
  EXPECT_EQ(profile.header("content-type"), "application/json") << profile.body;
  expect_api_route_reaches_oauth_api(apache, b);

  // Where the 401 page sends the browser: connect, the provider, the callback, and
  // back to the page, which now runs with the identity.
  Page landed = b.follow(b.get(apache.base() + login), apache.base());
  EXPECT_EQ(landed.status, 200) << landed.body;
  EXPECT_EQ(landed.body, kOctocatEnv);
  ASSERT_FALSE(b.trail.empty());
  EXPECT_EQ(b.trail.back(), apache.base() + "/private/env?x=1");

  Page echo = b.get(apache.protected_upstream(), forged_identity_headers());
  EXPECT_EQ(echo.status, 200) << echo.body;
  EXPECT_EQ(identity_headers_received(echo.body), kOctocatHeaders);
  profile = b.get(apache.base() + "/auth/profile");
  EXPECT_EQ(profile.status, 200) << profile.body;
  EXPECT_NE(profile.body.find("\"login\":\"octocat\""), npos) << profile.body;

  Page out = b.request("POST", apache.base() + "/auth/logout");
  EXPECT_EQ(out.status, 303) << out.body;
  EXPECT_EQ(b.get(apache.protected_env()).status, 401);
}

std::string mode_test_name(const ::testing::TestParamInfo<ApacheMode>& info) {
  static const char* const names[] = {"ProxyFcgi", "Fcgid", "Cgi"};
  return names[static_cast<int>(info.param)];
}

} // namespace

// <Location /> after the sign-in snippet's Include overrides the snippet's "Require
// all granted": oauth-fcgi-authz.conf's own exemption keeps the sign-in open.
class ApacheWholeSite : public ::testing::TestWithParam<ApacheMode> {};

TEST_P(ApacheWholeSite, SignInWorksThroughTheProtectedSite) {
  ApacheStack apache(GetParam(), ApacheSite::whole_site);
  expect_whole_site_sign_in(apache);
  print_logs_on_failure(&apache);
}

// <Location /> before the Include: the snippet's own grant comes last.
TEST(ApacheWholeSiteFirst, SignInWorksWithTheLocationBeforeTheSnippet) {
  ApacheStack apache(ApacheMode::proxy_fcgi, ApacheSite::whole_site_first);
  expect_whole_site_sign_in(apache);
  print_logs_on_failure(&apache);
}

INSTANTIATE_TEST_SUITE_P(EachWay, ApacheWholeSite,
                         ::testing::Values(ApacheMode::proxy_fcgi, ApacheMode::fcgid, ApacheMode::cgi),
                         mode_test_name);
