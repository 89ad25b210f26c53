// Revocation at sign-out (revoke.cpp): RFC 7009's request (method, URL, client
// authentication, body) and which token it sends, the failures, and the logout handler's
// order (session deleted before the provider is called; a failed revocation still signs
// out). Each type's own revocation: test_provider_<name>.cpp.
#include "revoke.hpp"

#include <gtest/gtest.h>

#include "fake_http.hpp"
#include "flow.hpp"
#include "handler_harness.hpp"
#include "handlers.hpp"
#include "provider_test.hpp"
#include "sessions.hpp"

using namespace oauthfcgi;
using testutil::FakeHttp;
using testutil::header;
using testutil::kNow;
using testutil::tokens;

namespace {

Result<HttpResponse> answer(long status, std::string body = "", std::string type = "application/json") {
  HttpResponse r;
  r.status = status;
  if (!type.empty()) r.headers = {{"content-type", type}};
  r.body = std::move(body);
  return r;
}

ProviderConfig oauth2_config(std::string revoke_url = "https://as.example/revoke") {
  ProviderConfig c;
  c.name = "corp";
  c.type = ProviderType::oauth2;
  c.client_id = "corp-id";
  c.client_secret = "corp-secret";
  c.authorize_url = "https://as.example/authorize";
  c.token_url = "https://as.example/token";
  c.userinfo_url = "https://as.example/userinfo";
  c.revoke_url = std::move(revoke_url);
  return c;
}

Params form_of(const HttpRequest& r) {
  return parse_query(r.body);
}

std::string param(const HttpRequest& r, const char* name) {
  return find_param(form_of(r), name).value;
}

} // namespace

// ---- RFC 7009: oauth2, oidc, gitlab ----

TEST(Revoke, Rfc7009RevokesTheRefreshTokenWithClientCredentialsInTheForm) {
  auto c = oauth2_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_answer("https://as.example/revoke", 200, {}, "");
  auto outcome = revoke_tokens(http, *p, tokens(), kNow);
  ASSERT_TRUE(outcome.ok()) << outcome.error().reason;
  EXPECT_EQ(*outcome, Revocation::revoked);
  ASSERT_EQ(http.requests.size(), 1u) << "one call: the refresh token takes the grant's access tokens along";
  const HttpRequest& r = http.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://as.example/revoke");
  EXPECT_EQ(*header(r, "Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(r.body, "token=RT-1&token_type_hint=refresh_token&client_id=corp-id&client_secret=corp-secret");
  EXPECT_TRUE(r.basic_user.empty());
  EXPECT_TRUE(r.basic_password.empty());
}

TEST(Revoke, Rfc7009UsesBasicAuthWhenTheProviderDoes) {
  auto c = oauth2_config();
  auto p = resolve_provider(c);
  p->basic_auth = true; // what discovery decides for oidc and gitlab
  FakeHttp http;
  http.on_answer("https://as.example/revoke", 200, {}, "");
  ASSERT_TRUE(revoke_tokens(http, *p, tokens(), kNow).ok());
  const HttpRequest& r = http.requests.at(0);
  EXPECT_EQ(r.basic_user, "corp-id");
  EXPECT_EQ(r.basic_password, "corp-secret");
  EXPECT_EQ(r.body, "token=RT-1&token_type_hint=refresh_token") << "Basic or the form, never both";
}

TEST(Revoke, Rfc7009RevokesTheAccessTokenWhenThereIsNoLiveRefreshToken) {
  auto c = oauth2_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_answer("https://as.example/revoke", 200, {}, "");
  ASSERT_TRUE(revoke_tokens(http, *p, tokens("AT-1", ""), kNow).ok());
  EXPECT_EQ(param(http.requests.at(0), "token"), "AT-1");
  EXPECT_EQ(param(http.requests.at(0), "token_type_hint"), "access_token");

  TokenSet expired_refresh = tokens();
  expired_refresh.refresh_expires_at = kNow - 1;
  ASSERT_TRUE(revoke_tokens(http, *p, expired_refresh, kNow).ok());
  EXPECT_EQ(param(http.requests.at(1), "token"), "AT-1");
}

TEST(Revoke, NothingIsSentWhenEveryTokenHasExpired) {
  auto c = oauth2_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  TokenSet t = tokens("AT-1", "");
  t.expires_at = kNow - 10;
  auto outcome = revoke_tokens(http, *p, t, kNow);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, Revocation::no_live_token);
  EXPECT_EQ(*revoke_tokens(http, *p, TokenSet{}, kNow), Revocation::no_live_token);
  EXPECT_TRUE(http.requests.empty());
}

TEST(Revoke, Rfc7009TriesTheAccessTokenWhenRefreshTokensCannotBeRevoked) {
  auto c = oauth2_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on("https://as.example/revoke", [](const HttpRequest& r) {
    if (find_param(parse_query(r.body), "token").value == "RT-1")
      return answer(400, R"({"error":"unsupported_token_type"})");
    return answer(200);
  });
  auto outcome = revoke_tokens(http, *p, tokens(), kNow);
  ASSERT_TRUE(outcome.ok()) << outcome.error().reason;
  ASSERT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(param(http.requests[1], "token"), "AT-1");
  EXPECT_EQ(param(http.requests[1], "token_type_hint"), "access_token");
}

TEST(Revoke, PlainOauth2WithoutRevokeUrlHasNothingToDo) {
  auto c = oauth2_config("");
  auto p = resolve_provider(c);
  FakeHttp http;
  auto outcome = revoke_tokens(http, *p, tokens(), kNow);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, Revocation::no_endpoint);
  EXPECT_STREQ(revocation_name(*outcome), "no_endpoint");
  EXPECT_TRUE(http.requests.empty());
}

// ---- failures ----

TEST(Revoke, FailuresNameTheProviderAndNeverQuoteATokenOrSecret) {
  auto c = oauth2_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json("https://as.example/revoke", 400,
               R"({"error":"invalid_request","error_description":"RT-1 with corp-secret? no"})");
  auto refused = revoke_tokens(http, *p, tokens(), kNow);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(refused.error().reason,
            "corp revocation endpoint answered HTTP 400: invalid_request ([redacted] with [redacted]? no)");

  FakeHttp down;
  down.on_answer("https://as.example/revoke", 503, {{"content-type", "text/html"}}, "<html>down</html>");
  auto unavailable = revoke_tokens(down, *p, tokens(), kNow);
  ASSERT_FALSE(unavailable.ok());
  EXPECT_EQ(unavailable.error().reason, "corp revocation endpoint answered HTTP 503");

  FakeHttp slow;
  slow.on("https://as.example/revoke", [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::provider_timeout, "as.example did not answer within 1500 ms");
  });
  auto timeout = revoke_tokens(slow, *p, tokens(), kNow);
  ASSERT_FALSE(timeout.ok());
  EXPECT_EQ(timeout.error().kind, ErrorKind::provider_timeout);
  EXPECT_EQ(timeout.error().reason, "corp revocation endpoint: as.example did not answer within 1500 ms");

  FakeHttp github_404;
  github_404.on_json("https://api.github.com/", 404, R"({"message":"Not Found"})");
  auto gc = testutil::github_test_config();
  auto gone = revoke_tokens(github_404, *resolve_provider(gc), tokens("gho_X", ""), kNow);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().reason, "github revocation endpoint answered HTTP 404: Not Found");
}

// ---- the logout handler ----

namespace {

class LogoutHandler : public testutil::HandlerTest {
protected:
  LogoutHandler() : HandlerTest("oauth-logout", LogLevel::info) {}

  void SetUp() override {
    std::string text = "[server]\npublic_url = https://www.example.com\nsecret_file = secret\n"
                       "[provider corp]\ntype = oauth2\nclient_id = corp-id\nclient_secret = corp-secret\n"
                       "authorize_url = http://127.0.0.1:9/authorize\ntoken_url = http://127.0.0.1:9/token\n"
                       "userinfo_url = http://127.0.0.1:9/userinfo\nrevoke_url = http://127.0.0.1:9/revoke\n"
                       "[provider plain]\ntype = oauth2\nclient_id = plain-id\nclient_secret = plain-secret\n"
                       "authorize_url = http://127.0.0.1:9/authorize\ntoken_url = http://127.0.0.1:9/token\n"
                       "userinfo_url = http://127.0.0.1:9/userinfo\n";
    load_config(text);
    lines_.capture(log_);
  }

  // A signed-in session of `provider` under the cookie value kCookie.
  void sign_in(const std::string& provider) {
    Session s;
    s.profile.provider = provider;
    s.profile.id = "42";
    s.profile.login = "alice";
    s.tokens = tokens("ACCESS-SECRET", "REFRESH-SECRET");
    s.tokens.expires_at = clock_.now() + 3600;
    s.created = clock_.now();
    s.expires_at = s.created + 3600;
    ASSERT_TRUE(AuthStore(store_, keys_).put_session(kCookie, s, std::chrono::seconds(3600)).ok());
  }
  bool signed_in() {
    auto s = AuthStore(store_, keys_).get_session(kCookie);
    return s.ok() && s->has_value();
  }
  Response logout() {
    Context ctx = context();
    ctx.session = kCookie; // what the pipeline reads for the logout route
    return handle_logout(Request({{"REQUEST_METHOD", "POST"},
                                  {"SCRIPT_NAME", "/auth/logout"},
                                  {"HTTP_ORIGIN", "https://www.example.com"},
                                  {"HTTP_COOKIE", session_cookie_name(*config_) + "=" + kCookie}}),
                         ctx);
  }
  std::string logs() const { return lines_.all(); }
  void expect_signed_out(const Response& r) {
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(*r.header("Location"), "/");
    const std::string* cookie = r.header("Set-Cookie");
    ASSERT_NE(cookie, nullptr);
    EXPECT_NE(cookie->find("Max-Age=0"), std::string::npos) << *cookie;
    EXPECT_FALSE(signed_in());
    EXPECT_EQ(logs().find("SECRET"), std::string::npos) << logs();
  }

  const std::string kCookie = std::string(43, 'c');
  testutil::LogLines lines_;
};

} // namespace

TEST_F(LogoutHandler, DeletesTheSessionThenRevokesTheRefreshToken) {
  sign_in("corp");
  bool gone_before_revocation = false;
  http_.on("http://127.0.0.1:9/revoke", [&](const HttpRequest&) {
    gone_before_revocation = !signed_in();
    return answer(200);
  });
  expect_signed_out(logout());
  EXPECT_TRUE(gone_before_revocation) << "a hanging provider must not keep the session usable";
  ASSERT_EQ(http_.requests.size(), 1u);
  EXPECT_EQ(param(http_.requests[0], "token"), "REFRESH-SECRET");
  EXPECT_NE(logs().find("info oauth-logout event=logout provider=corp user=alice revocation=revoked"),
            std::string::npos)
      << logs();
}

TEST_F(LogoutHandler, AFailedOrHangingRevocationStillSignsOutWithAWarning) {
  sign_in("corp");
  http_.on("http://127.0.0.1:9/revoke", [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::provider_timeout, "127.0.0.1 did not answer within 1500 ms");
  });
  expect_signed_out(logout());
  EXPECT_NE(logs().find("warn oauth-logout event=logout provider=corp user=alice revocation=failed "
                        "reason=\"corp revocation endpoint: 127.0.0.1 did not answer within 1500 ms\""),
            std::string::npos)
      << logs();

  lines_.clear();
  sign_in("corp");
  http_ = FakeHttp();
  http_.on_json("http://127.0.0.1:9/revoke", 500, R"({"error":"server_error"})");
  expect_signed_out(logout());
  EXPECT_NE(
      logs().find("revocation=failed reason=\"corp revocation endpoint answered HTTP 500: server_error\""),
      std::string::npos)
      << logs();
}

TEST_F(LogoutHandler, AProviderWithoutEndpointIsNotCalled) {
  sign_in("plain");
  expect_signed_out(logout());
  EXPECT_TRUE(http_.requests.empty());
  EXPECT_NE(logs().find("provider=plain user=alice revocation=no_endpoint"), std::string::npos) << logs();
}

TEST_F(LogoutHandler, AProviderGoneFromTheConfigStillSignsOut) {
  sign_in("retired");
  expect_signed_out(logout());
  EXPECT_TRUE(http_.requests.empty());
  EXPECT_NE(logs().find("revocation=unknown_provider"), std::string::npos) << logs();
}

TEST_F(LogoutHandler, RedisDownIs503AndNothingIsRevoked) {
  sign_in("corp");
  store_.set_unavailable(true);
  Response r = logout();
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.header("Set-Cookie"), nullptr) << "the cookie goes anyway";
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(LogoutHandler, NoSessionNoCall) {
  Response r = logout();
  EXPECT_EQ(r.status, 303);
  EXPECT_TRUE(http_.requests.empty());
}
