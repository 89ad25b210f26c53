// pass_access_token through nginx + Redis + the dev provider: a location that opted in
// with the shipped snippets' commented lines hands its upstream the provider's current
// access token (refreshed first when it is about to expire, once for a burst of
// concurrent checks), never one the client sent in any spelling; a location with the
// snippet as shipped hands on none.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "browser.hpp"
#include "stack.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::Stack;
using testutil::StackOptions;

namespace {

// The opt-in lines of a shipped snippet, uncommented: its commented lines naming
// $oauth_access_token, as a user copies them into a location.
std::string opt_in_lines(const std::string& snippet) {
  std::istringstream in(testutil::read_file(testutil::source_dir() + "/conf/nginx/" + snippet));
  std::string lines;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("# ", 0) == 0 && line.find("$oauth_access_token") != std::string::npos)
      lines += "      " + line.substr(2) + "\n";
  return lines;
}

// The values of every "<key><sep>value" line of an echo whose key, read the way CGI does
// (case and '-' versus '_' ignored), is key.
std::vector<std::string> values_of(const std::string& echo, const std::string& key, const std::string& sep) {
  auto fold = [](std::string s) {
    for (char& c : s)
      c = c == '-' ? '_' : static_cast<char>(toupper(static_cast<unsigned char>(c)));
    return s;
  };
  std::vector<std::string> values;
  std::istringstream lines(echo);
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find(sep);
    if (at != std::string::npos && fold(line.substr(0, at)) == fold(key))
      values.push_back(line.substr(at + sep.size()));
  }
  return values;
}

// What a client forges: the token headers in every spelling nginx or a backend may read.
std::vector<std::string> forged_tokens() {
  return {"X-Auth-Access-Token: forged-1",         "X_Auth_Access_Token: forged-2",
          "X-Auth_Access-Token: forged-3",         "X-Auth-Access-Token-Expires: forged-4",
          "X_Auth_Access_Token_Expires: forged-5", "x-auth-access-token: forged-6"};
}

// The echo upstreams and a Stack whose github provider has pass_access_token, with
// tokens living `token_ttl` seconds (0: GitHub's never-expiring ones): /private/ has the
// snippet as shipped, /token/ and /php-token/ the snippets plus their opt-in lines.
struct Site {
  explicit Site(int token_ttl)
      : http_port(testutil::free_port()),
        echo({"/usr/bin/python3", testutil::source_dir() + "/tests/support/echo_upstream.py", "--fastcgi",
              dir.file("echo.sock"), "--http", std::to_string(http_port)},
             {}, dir.file("echo.log")) {
    if (!testutil::wait_until([&] { return testutil::port_open(http_port); }))
      throw std::runtime_error("echo upstream did not start: " + testutil::read_file(dir.file("echo.log")));
    std::string app = "http://127.0.0.1:" + std::to_string(http_port);
    StackOptions o;
    o.github_section = "pass_access_token = true\n";
    if (token_ttl) o.provider_args = {"--token-ttl", std::to_string(token_ttl)};
    // Long enough for a token endpoint made slow on purpose.
    o.http_section = "[http]\nconnect_timeout_ms = 1000\ntimeout_ms = 9000\n";
    o.nginx_site = "    underscores_in_headers on;\n"
                   "    location /private/ {\n"
                   "      include nginx/oauth-fcgi-protect.conf;\n"
                   "      proxy_pass " +
                   app + ";\n    }\n" + "    location /token/ {\n" +
                   "      include nginx/oauth-fcgi-protect.conf;\n" +
                   opt_in_lines("oauth-fcgi-protect.conf") + "      proxy_pass " + app + ";\n    }\n" +
                   "    location /php-token/ {\n" + "      include fastcgi_params;\n" +
                   "      include nginx/oauth-fcgi-protect-fastcgi.conf;\n" +
                   opt_in_lines("oauth-fcgi-protect-fastcgi.conf") +
                   "      fastcgi_pass unix:" + dir.file("echo.sock") + ";\n    }\n";
    stack = std::make_unique<Stack>(o);
  }
  testutil::TempDir dir;
  int http_port;
  testutil::Process echo;
  std::unique_ptr<Stack> stack;
};

class PassToken : public ::testing::Test {
protected:
  static void TearDownTestSuite() {
    short_lived().reset();
    long_lived().reset();
  }
  // Tokens of 30 s: always within a minute of expiry, so every check refreshes first.
  static std::unique_ptr<Site>& short_lived() {
    static std::unique_ptr<Site> site;
    return site;
  }
  static std::unique_ptr<Site>& long_lived() {
    static std::unique_ptr<Site> site;
    return site;
  }
  Stack& stack(bool expiring) {
    auto& site = expiring ? short_lived() : long_lived();
    if (!site) site = std::make_unique<Site>(expiring ? 30 : 0);
    stack_ = site->stack.get();
    stack_->provider_call("DELETE", "/_dev/fault");
    return *stack_;
  }
  void TearDown() override {
    if (HasFailure() && stack_)
      std::cerr << "---- program logs ----\n" << stack_->program_logs().substr(0, 20000);
  }
  // Whether the dev provider's GitHub API takes `token` now, as octocat's.
  bool provider_accepts(const std::string& token) {
    Browser api;
    Page user = api.get(stack_->provider() + "/github/api/user",
                        {"Authorization: Bearer " + token, "User-Agent: test_pass_token"});
    EXPECT_TRUE(user.status == 200 || user.status == 401) << user.status << " " << user.body;
    return user.status == 200 && user.body.find("\"octocat\"") != std::string::npos;
  }
  // The one token the upstream got, or "" (a failure) when it got none or several.
  static std::string only_token(const Page& page, const std::string& key, const std::string& sep) {
    auto values = values_of(page.body, key, sep);
    EXPECT_EQ(values.size(), 1u) << page.body;
    return values.size() == 1 ? values[0] : "";
  }
  Stack* stack_ = nullptr;
};

} // namespace

TEST_F(PassToken, OptedInUpstreamGetsTheProvidersCurrentTokenNeverAForgedOne) {
  Stack& s = stack(false);
  Browser b;
  ASSERT_EQ(s.login(b, "github").status, 302);
  int refreshes = s.provider_count("refresh");
  Page page = b.get(s.base() + "/token/x", forged_tokens());
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body.find("forged"), std::string::npos) << page.body;
  std::string token = only_token(page, "X-Auth-Access-Token", ": ");
  EXPECT_TRUE(provider_accepts(token)) << "the provider's live token for octocat";
  // GitHub OAuth-app tokens never expire: the expiry header is empty, so not sent at all.
  EXPECT_TRUE(values_of(page.body, "X-Auth-Access-Token-Expires", ": ").empty()) << page.body;
  EXPECT_EQ(s.provider_count("refresh"), refreshes) << "nothing to refresh";
  // The FastCGI variant: the same token, nothing forged.
  Page php = b.get(s.base() + "/php-token/index.php", forged_tokens());
  ASSERT_EQ(php.status, 200) << php.body;
  EXPECT_EQ(php.body.find("forged"), std::string::npos) << php.body;
  EXPECT_EQ(only_token(php, "HTTP_X_AUTH_ACCESS_TOKEN", "="), token);
  // The token is for the upstream only: not in the browser's answer, nor in any log line.
  EXPECT_EQ(s.program_logs().find(token), std::string::npos);
}

TEST_F(PassToken, SnippetAsShippedHandsOnNoTokenAndNoForgedOne) {
  Stack& s = stack(false);
  Browser b;
  ASSERT_EQ(s.login(b, "github").status, 302);
  Page page = b.get(s.base() + "/private/x", forged_tokens());
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(values_of(page.body, "X-Auth-User", ": "), std::vector<std::string>{"octocat"}) << page.body;
  EXPECT_EQ(page.body.find("forged"), std::string::npos) << page.body;
  EXPECT_TRUE(values_of(page.body, "X-Auth-Access-Token", ": ").empty()) << page.body;
  EXPECT_TRUE(values_of(page.body, "X-Auth-Access-Token-Expires", ": ").empty()) << page.body;
  // Signed out, the opted-in location sends the browser to the sign-in, not a forged token on.
  Browser stranger;
  Page refused = stranger.get(s.base() + "/token/x", forged_tokens());
  EXPECT_EQ(refused.status, 302);
  EXPECT_EQ(refused.body.find("forged"), std::string::npos);
}

TEST_F(PassToken, ExpiringTokenIsRefreshedFirstOnceForConcurrentChecks) {
  Stack& s = stack(true);
  Browser b;
  ASSERT_EQ(s.login(b, "github").status, 302);
  int refreshes = s.provider_count("refresh");
  Page first = b.get(s.base() + "/token/a");
  ASSERT_EQ(first.status, 200) << first.body;
  std::string refreshed = only_token(first, "X-Auth-Access-Token", ": ");
  EXPECT_EQ(s.provider_count("refresh"), refreshes + 1) << "30 s left: refreshed before it was handed on";
  EXPECT_TRUE(provider_accepts(refreshed));
  std::string expires = only_token(first, "X-Auth-Access-Token-Expires", ": ");
  long now = static_cast<long>(time(nullptr));
  EXPECT_GE(std::stol(expires.empty() ? "0" : expires), now + 20) << expires;
  EXPECT_LE(std::stol(expires.empty() ? "0" : expires), now + 31) << expires;

  // Eight checks of one session at once while the token endpoint takes 1.5 s: one
  // refresh, and every upstream request gets its token.
  s.provider_call("POST", "/_dev/fault?endpoint=token&mode=slow&ms=1500");
  const int n = 8;
  std::vector<Page> pages(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      Browser other;
      other.set_cookie("127.0.0.1", "oauth_session", b.cookie("oauth_session"));
      pages[i] = other.get(s.base() + "/token/" + std::to_string(i));
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(s.provider_count("refresh"), refreshes + 2) << "one refresh for " << n << " checks";
  std::set<std::string> tokens;
  for (const Page& p : pages) {
    EXPECT_EQ(p.status, 200) << p.body;
    tokens.insert(only_token(p, "X-Auth-Access-Token", ": "));
  }
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_NE(*tokens.begin(), refreshed);
  EXPECT_TRUE(provider_accepts(*tokens.begin())) << "the provider's current token";
  EXPECT_FALSE(provider_accepts(refreshed)) << "GitHub revoked the one before on refresh";
  EXPECT_EQ(s.program_logs().find(*tokens.begin()), std::string::npos);
  EXPECT_EQ(s.program_logs().find(refreshed), std::string::npos);
}
