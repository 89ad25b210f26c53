// A whole site protected at server level with the shipped nginx snippets, unedited but
// for their socket paths: the sign-in still works through it, and the identity a proxied
// and a FastCGI application see comes only from oauth-check, whatever X-Auth-* headers
// (in any spelling) the client sent, with nginx's `underscores_in_headers` off and on.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include "browser.hpp"
#include "stack.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::Stack;
using testutil::StackOptions;

namespace {

const char* const kIdentityHeaders[] = {
    "X-Auth-User", "X-Auth-Email", "X-Auth-Login",        "X-Auth-Provider",
    "X-Auth-Id",   "X-Auth-Name",  "X-Auth-Access-Token", "X-Auth-Access-Token-Expires"};

// Every spelling of name with each '-' kept or made '_': X-Auth-User, X_Auth-User, ...
std::vector<std::string> spellings(const std::string& name) {
  std::vector<size_t> dashes;
  for (size_t i = 0; i < name.size(); ++i)
    if (name[i] == '-') dashes.push_back(i);
  std::vector<std::string> all;
  for (unsigned mask = 0; mask < (1u << dashes.size()); ++mask) {
    std::string s = name;
    for (size_t bit = 0; bit < dashes.size(); ++bit)
      if (mask & (1u << bit)) s[dashes[bit]] = '_';
    all.push_back(s);
  }
  return all;
}

// Every spelling of every identity header, each with its own "forged-N" value.
std::vector<std::string> forged_headers() {
  std::vector<std::string> headers;
  for (const char* name : kIdentityHeaders)
    for (const auto& s : spellings(name))
      headers.push_back(s + ": forged-" + std::to_string(headers.size()));
  return headers;
}

// The values of every line "<key><sep>value" of an echo whose key, read the way CGI
// does (case and '-' versus '_' ignored), is key.
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

// The echo upstreams (tests/support/echo_upstream.py) and a Stack whose nginx server is
// the recipe: oauth-fcgi.conf and oauth-fcgi-protect.conf in server { }, a proxied
// application at /, a FastCGI one at /php/, and /open/, which sets its own
// proxy_set_header and so shows what nginx passes on unfiltered.
struct Site {
  explicit Site(bool underscores)
      : http_port(testutil::free_port()),
        echo({"/usr/bin/python3", testutil::source_dir() + "/tests/support/echo_upstream.py", "--fastcgi",
              dir.file("echo.sock"), "--http", std::to_string(http_port)},
             {}, dir.file("echo.log")) {
    if (!testutil::wait_until([&] { return testutil::port_open(http_port); }))
      throw std::runtime_error("echo upstream did not start: " + testutil::read_file(dir.file("echo.log")));
    std::string app = "http://127.0.0.1:" + std::to_string(http_port);
    StackOptions o;
    o.nginx_site = std::string(underscores ? "    underscores_in_headers on;\n" : "") +
                   "    include nginx/oauth-fcgi-protect.conf;\n"
                   "    location / {\n      proxy_pass " +
                   app +
                   ";\n    }\n"
                   "    location /php/ {\n"
                   "      include fastcgi_params;\n"
                   "      include nginx/oauth-fcgi-protect-fastcgi.conf;\n"
                   "      fastcgi_pass unix:" +
                   dir.file("echo.sock") +
                   ";\n    }\n"
                   "    location /open/ {\n"
                   "      auth_request off;\n"
                   "      proxy_set_header X-Open yes;\n"
                   "      proxy_pass " +
                   app + ";\n    }\n";
    stack = std::make_unique<Stack>(o);
  }
  testutil::TempDir dir;
  int http_port;
  testutil::Process echo;
  std::unique_ptr<Stack> stack;
};

// Param: underscores_in_headers on. One Site per setting, shared by the suite.
class NginxSite : public ::testing::TestWithParam<bool> {
protected:
  static void TearDownTestSuite() { sites().clear(); }
  static std::map<bool, std::unique_ptr<Site>>& sites() {
    static std::map<bool, std::unique_ptr<Site>> all;
    return all;
  }
  void SetUp() override {
    auto& site = sites()[GetParam()];
    if (!site) site = std::make_unique<Site>(GetParam());
    stack_ = site->stack.get();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- program logs ----\n" << stack_->program_logs().substr(0, 20000);
  }
  std::string base() const { return stack_->base(); }
  Stack* stack_ = nullptr;
};

std::string param_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "UnderscoresOn" : "UnderscoresOff";
}

INSTANTIATE_TEST_SUITE_P(, NginxSite, ::testing::Bool(), param_name);

TEST_P(NginxSite, StrangerSignsInThroughTheChooserAndLandsOnThePage) {
  Browser b;
  Page stranger = b.get(base() + "/docs/page?x=1");
  ASSERT_EQ(stranger.status, 302) << stranger.body;
  ASSERT_EQ(stranger.location(), base() + "/auth/connect?return_to=%2Fdocs%2Fpage%3Fx%3D1");

  Page chooser = b.get(stranger.location());
  ASSERT_EQ(chooser.status, 200) << chooser.body;
  std::smatch link;
  ASSERT_TRUE(std::regex_search(chooser.body, link, std::regex("href=\"(/auth/connect/github[^\"]*)\"")))
      << chooser.body;
  Page connect = b.get(base() + link[1].str());
  ASSERT_EQ(connect.status, 302) << connect.body;
  ASSERT_EQ(connect.location().rfind(stack_->provider(), 0), 0u) << connect.location();
  Page authorized = b.get(connect.location());
  ASSERT_EQ(authorized.status, 302) << authorized.body;
  Page callback = b.get(authorized.location());
  ASSERT_EQ(callback.status, 302) << callback.body;
  ASSERT_EQ(callback.location(), base() + "/docs/page?x=1");

  Page page = b.get(callback.location());
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body.rfind("GET /docs/page?x=1 HTTP/", 0), 0u) << page.body;
  EXPECT_EQ(values_of(page.body, "X-Auth-User", ": "), std::vector<std::string>{"octocat"}) << page.body;
  EXPECT_EQ(values_of(page.body, "X-Auth-Login", ": "), std::vector<std::string>{"octocat"});
  EXPECT_EQ(values_of(page.body, "X-Auth-Email", ": "), std::vector<std::string>{"octocat@github.example"});
  EXPECT_EQ(values_of(page.body, "X-Auth-Provider", ": "), std::vector<std::string>{"github"});
  EXPECT_EQ(values_of(page.body, "X-Auth-Id", ": "), std::vector<std::string>{"583231"});
  EXPECT_EQ(values_of(page.body, "X-Auth-Name", ": "), std::vector<std::string>{"The Octocat"});
}

// Without `auth_request off` in each /auth/ location they would inherit the server's
// auth_request and answer a signed-out browser with a 302 to the sign-in.
TEST_P(NginxSite, AuthRoutesStayReachableUnderServerWideProtection) {
  Browser b;
  Page profile = b.get(base() + "/auth/profile");
  EXPECT_EQ(profile.status, 401) << profile.body;
  EXPECT_EQ(profile.header("content-type"), "application/json");
  Page connect = b.get(base() + "/auth/connect/github");
  EXPECT_EQ(connect.status, 302);
  EXPECT_EQ(connect.location().rfind(stack_->provider(), 0), 0u) << connect.location();
  EXPECT_EQ(b.get(base() + "/auth/callback/github?code=c0de&state=unknown").status, 400);
  EXPECT_EQ(b.get(base() + "/auth/check").status, 404) << "internal";

  ASSERT_EQ(stack_->login(b, "github").status, 302);
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 200);
  EXPECT_EQ(b.get(base() + "/docs/").status, 200);
  Page out = b.request("POST", base() + "/auth/logout", {"Origin: " + base()});
  EXPECT_EQ(out.status, 303) << out.body;
  EXPECT_EQ(b.get(base() + "/docs/").status, 302) << "signed out again";
}

TEST_P(NginxSite, ProxiedAppGetsIdentityOnlyFromTheCheck) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "github").status, 302);
  Page page = b.get(base() + "/docs/x", forged_headers());
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body.find("forged"), std::string::npos) << page.body;
  EXPECT_EQ(values_of(page.body, "X-Auth-User", ": "), std::vector<std::string>{"octocat"}) << page.body;
  EXPECT_EQ(values_of(page.body, "X-Auth-Email", ": "), std::vector<std::string>{"octocat@github.example"});
  EXPECT_EQ(values_of(page.body, "X-Auth-Login", ": "), std::vector<std::string>{"octocat"});
  EXPECT_EQ(values_of(page.body, "X-Auth-Provider", ": "), std::vector<std::string>{"github"});
  EXPECT_EQ(values_of(page.body, "X-Auth-Id", ": "), std::vector<std::string>{"583231"});
  EXPECT_EQ(values_of(page.body, "X-Auth-Name", ": "), std::vector<std::string>{"The Octocat"});
  EXPECT_TRUE(values_of(page.body, "X-Auth-Access-Token", ": ").empty()) << "pass_access_token is off";
  EXPECT_TRUE(values_of(page.body, "X-Auth-Access-Token-Expires", ": ").empty());
}

TEST_P(NginxSite, FastcgiAppGetsIdentityOnlyFromTheCheck) {
  Browser b;
  Page stranger = b.get(base() + "/php/index.php?a=1", forged_headers());
  EXPECT_EQ(stranger.status, 302);
  EXPECT_EQ(stranger.location(), base() + "/auth/connect?return_to=%2Fphp%2Findex.php%3Fa%3D1");

  ASSERT_EQ(stack_->login(b, "github").status, 302);
  Page page = b.get(base() + "/php/index.php?a=1", forged_headers());
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body.find("forged"), std::string::npos) << page.body;
  EXPECT_EQ(values_of(page.body, "REQUEST_URI", "="), std::vector<std::string>{"/php/index.php?a=1"});
  EXPECT_EQ(values_of(page.body, "HTTP_X_AUTH_USER", "="), std::vector<std::string>{"octocat"}) << page.body;
  EXPECT_EQ(values_of(page.body, "HTTP_X_AUTH_EMAIL", "="),
            std::vector<std::string>{"octocat@github.example"});
  EXPECT_EQ(values_of(page.body, "HTTP_X_AUTH_LOGIN", "="), std::vector<std::string>{"octocat"});
  EXPECT_EQ(values_of(page.body, "HTTP_X_AUTH_PROVIDER", "="), std::vector<std::string>{"github"});
  EXPECT_EQ(values_of(page.body, "HTTP_X_AUTH_ID", "="), std::vector<std::string>{"583231"});
  EXPECT_EQ(values_of(page.body, "HTTP_X_AUTH_NAME", "="), std::vector<std::string>{"The Octocat"});
  EXPECT_TRUE(values_of(page.body, "HTTP_X_AUTH_ACCESS_TOKEN", "=").empty()) << "pass_access_token is off";
  EXPECT_TRUE(values_of(page.body, "HTTP_X_AUTH_ACCESS_TOKEN_EXPIRES", "=").empty());
  // fastcgi_params sends its own, empty, REMOTE_USER first; the last one is oauth-check's.
  std::vector<std::string> remote_user = values_of(page.body, "REMOTE_USER", "=");
  ASSERT_FALSE(remote_user.empty()) << page.body;
  EXPECT_EQ(remote_user.back(), "octocat");
  EXPECT_TRUE(std::all_of(remote_user.begin(), remote_user.end() - 1, [](auto& v) { return v.empty(); }))
      << page.body;
}

// $remote_user is the name in the client's own Basic credentials, which fastcgi_params
// sends as REMOTE_USER: such a request never reaches the application.
TEST_P(NginxSite, FastcgiRefusesClientBasicCredentials) {
  Browser b;
  ASSERT_EQ(stack_->login(b, "github").status, 302);
  // "mallory:secret"
  Page page = b.get(base() + "/php/index.php", {"Authorization: Basic bWFsbG9yeTpzZWNyZXQ="});
  EXPECT_EQ(page.status, 400);
  EXPECT_EQ(page.body.find("REMOTE_USER"), std::string::npos) << page.body;
}

// The control for the two tests above: a block without the snippet's lines passes on
// whatever nginx accepted, so those tests see what the snippet removes.
TEST_P(NginxSite, NginxPassesUnderscoreHeadersOnOnlyWhenAllowed) {
  Browser b;
  Page page = b.get(base() + "/open/x", {"X-Auth-User: forged-dash", "X_Auth_User: forged-underscore"});
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("X-Auth-User: forged-dash"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("X_Auth_User: forged-underscore") != std::string::npos, GetParam()) << page.body;
}

} // namespace
