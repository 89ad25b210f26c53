// The facebook type through nginx + Redis against the Facebook emulator: the GET
// code exchange, the long-lived token, debug_token, appsecret_proof, the older
// form-encoded answer, and every way Facebook says no.
#include <gtest/gtest.h>

#include <ctime>

#include "browser.hpp"
#include "stack_suite.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::query_value;
using testutil::Stack;

namespace {

class Facebook : public testutil::StackSuite<Facebook> {
protected:
  Page login(Browser& b, const std::string& extra = "", const std::string& provider = "facebook") {
    return stack_->login(b, provider, "", extra);
  }
  static long expires_at(const std::string& profile) {
    auto at = profile.find("\"expires_at\":");
    return at == std::string::npos ? -1 : std::atol(profile.c_str() + at + 13);
  }
};

} // namespace

TEST_F(Facebook, LoginKeepsALongLivedTokenCheckedWithDebugToken) {
  Browser b;
  int exchanges = stack_->provider_count("exchange"), debugs = stack_->provider_count("debug_token");
  Page done = login(b, "&dev_user=alice");
  ASSERT_EQ(done.status, 302) << done.body;
  EXPECT_EQ(stack_->provider_count("exchange"), exchanges + 1) << "short-lived token swapped right away";
  EXPECT_EQ(stack_->provider_count("debug_token"), debugs + 1);
  Page profile = b.get(base() + "/auth/profile");
  ASSERT_EQ(profile.status, 200);
  EXPECT_NE(profile.body.find(R"("provider":"facebook","id":")"), std::string::npos) << profile.body;
  EXPECT_NE(profile.body.find(R"("login":null,"name":"Alice Example","email":"alice@example.com")"),
            std::string::npos)
      << profile.body;
  EXPECT_NE(profile.body.find(R"("avatar_url":"https://)"), std::string::npos) << profile.body;
  EXPECT_NE(profile.body.find(R"("valid":true,"scopes":["email","public_profile"])"), std::string::npos)
      << profile.body;
  // Long-lived: about 60 days, not the short-lived hour or two.
  long now = static_cast<long>(time(nullptr));
  EXPECT_GT(expires_at(profile.body), now + 50L * 86400) << profile.body;
  EXPECT_EQ(profile.body.find("EAA"), std::string::npos) << "never the token";
  // The identity header for protected pages is the email (Facebook has no login name).
  Page page = b.get(base() + "/private/x");
  EXPECT_NE(page.body.find("user=alice@example.com email=alice@example.com provider=facebook"),
            std::string::npos)
      << page.body;
}

TEST_F(Facebook, MeIsAskedForItsFieldsWithAppsecretProof) {
  Browser b;
  ASSERT_EQ(login(b).status, 302);
  std::string stats = stack_->provider_call("GET", "/_dev/stats");
  auto me = stats.find("\"last_me_request\"");
  ASSERT_NE(me, std::string::npos) << stats;
  std::string seen = stats.substr(me, 600);
  std::string lower = seen;
  for (char& c : lower)
    c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(lower.find("fields=id%2cname%2cemail%2cpicture"), std::string::npos) << seen;
  EXPECT_NE(seen.find("appsecret_proof="), std::string::npos) << seen;
  EXPECT_EQ(seen.find("access_token="), std::string::npos) << "the token goes in a header: " << seen;
}

// The emulator takes the exchange only by GET, and only with the dialog's redirect_uri
// byte for byte (else Graph error 100/36008): signing in proves both; the record
// shows the parameters went in the query, none in a body.
TEST_F(Facebook, TokenExchangeIsAGetWithTheSameRedirectUri) {
  Browser b;
  Page connect = b.get(base() + "/auth/connect/facebook");
  ASSERT_EQ(connect.status, 302);
  EXPECT_EQ(connect.location().rfind(stack_->provider() + "/facebook/www/v19.0/dialog/oauth?", 0), 0u);
  Page authorize = b.get(connect.location());
  ASSERT_EQ(b.get(authorize.location()).status, 302);
  std::string stats = stack_->provider_call("GET", "/_dev/stats");
  auto last = stats.find("\"last_token_request\"");
  ASSERT_NE(last, std::string::npos) << stats;
  std::string request = stats.substr(last, stats.find("\"last_authorize_request\"") - last);
  EXPECT_NE(request.find("\"query\": \"grant_type=fb_exchange_token&"), std::string::npos) << request;
  EXPECT_NE(request.find("\"form\": {}"), std::string::npos) << request;
}

TEST_F(Facebook, OlderFormEncodedAnswerLogsIn) {
  Browser b;
  Page profile = signed_in_profile(b, "facebook_old");
  EXPECT_NE(profile.body.find("\"provider\":\"facebook_old\""), std::string::npos) << profile.body;
  EXPECT_GT(expires_at(profile.body), static_cast<long>(time(nullptr)) + 50L * 86400) << profile.body;
  Browser c;
  fault("token", "form");
  ASSERT_EQ(login(c).status, 302) << "form encoding on a current version too";
}

TEST_F(Facebook, UserWithoutEmailOrDecliningItSignsInWithoutOne) {
  Browser bob;
  Page profile = signed_in_profile(bob, "facebook", "&dev_user=bob");
  EXPECT_NE(profile.body.find("\"email\":null"), std::string::npos) << profile.body;
  Browser alice;
  profile = signed_in_profile(alice, "facebook", "&dev_user=alice&dev_decline=email");
  EXPECT_NE(profile.body.find("\"email\":null"), std::string::npos) << profile.body;
  EXPECT_NE(profile.body.find("\"scopes\":[\"public_profile\"]"), std::string::npos) << profile.body;
}

TEST_F(Facebook, UserSayingNoIs403WithFacebooksWordsInTheLogOnly) {
  Browser b;
  Page done = login(b, "&dev_action=deny");
  EXPECT_EQ(done.status, 403) << done.body;
  EXPECT_EQ(done.body.find("Permissions error"), std::string::npos) << done.body;
  EXPECT_NE(stack_->program_logs().find("Permissions error"), std::string::npos);
  // The error redirect is just a URL: anyone can forge one. Its text is never shown.
  Page connect = b.get(base() + "/auth/connect/facebook");
  std::string state = query_value(connect.location(), "state");
  Page forged = b.get(base() + "/auth/callback/facebook?error=access_denied&error_reason=user_denied" +
                      "&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=" + state);
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(forged.body.find("script"), std::string::npos) << forged.body;
  EXPECT_EQ(forged.body.find("alert"), std::string::npos) << forged.body;
  // The state went with it: the same state can't be used for a real code now.
  EXPECT_EQ(b.get(base() + "/auth/callback/facebook?code=x&state=" + state).status, 400);
}

TEST_F(Facebook, BadAndReusedCodesAre502WithGraphsCode) {
  Browser b;
  Page connect = b.get(base() + "/auth/connect/facebook");
  Page bad = b.get(base() + "/auth/callback/facebook?code=AQBnot-a-code&state=" +
                   query_value(connect.location(), "state"));
  expect_502_saying(bad, "(Graph error 100");
  expect_502_saying(replay_code(b, "facebook"),
                    "the authorization code was already used (Graph error 100/36009");
}

TEST_F(Facebook, TokenRefusedAtMeIs502WithCode190) {
  Browser b;
  fault("me", "invalid_token");
  expect_502_saying(login(b),
                    "facebook user endpoint: the access token is invalid or expired (Graph error 190");
}

TEST_F(Facebook, ServerErrorsAndHtmlAtEveryStepAre502) {
  for (const char* endpoint : {"token", "exchange", "debug_token", "me"}) {
    Browser b;
    fault(endpoint, "500");
    EXPECT_EQ(login(b).status, 502) << endpoint;
    fault(endpoint, "html");
    Page html = login(b);
    EXPECT_EQ(html.status, 502) << endpoint;
    expect_logged_not_shown(html, "HTML where JSON was expected");
  }
  EXPECT_EQ(stack_->program_logs().find("fb-secret"), std::string::npos);
}

TEST_F(Facebook, ProviderThatNeverAnswersIs504) {
  for (const char* endpoint : {"token", "me"}) {
    Browser b;
    fault(endpoint, "hang");
    EXPECT_EQ(login(b).status, 504) << endpoint;
  }
}

TEST_F(Facebook, LogsAndRedisHoldNoTokenOrSecret) {
  Browser b;
  ASSERT_EQ(login(b).status, 302);
  fault("me", "invalid_token");
  Browser c;
  ASSERT_EQ(login(c).status, 502);
  std::string logs = stack_->program_logs();
  EXPECT_EQ(logs.find("EAA"), std::string::npos);
  EXPECT_EQ(logs.find("fb-secret"), std::string::npos);
  EXPECT_EQ(logs.find("appsecret_proof="), std::string::npos);
  std::string dump = stack_->redis().dump_all();
  EXPECT_EQ(dump.find("EAA"), std::string::npos);
  EXPECT_EQ(dump.find(" -1 "), std::string::npos) << "every key has a TTL:\n" << dump;
}

TEST_F(Facebook, TokenOfAnotherAppIsRefused) {
  Browser b;
  fault("debug_token", "other_app");
  expect_502_saying(login(b), "facebook debug_token: the token was issued to another app");
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401);
}

TEST_F(Facebook, RateLimitIs502WithGraphsCode) {
  Browser b;
  fault("me", "ratelimit");
  expect_502_saying(login(b), "Graph API rate limit reached (Graph error 17");
}
