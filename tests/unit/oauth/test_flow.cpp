#include "flow.hpp"

#include <gtest/gtest.h>

#include "crypto.hpp"
#include "fake_http.hpp"

using namespace oauthfcgi;

namespace {
using testutil::github_test_config;
HttpResponse answer(long status, std::string ct, std::string body) {
  HttpResponse r;
  r.status = status;
  if (!ct.empty()) r.headers = {{"content-type", ct}};
  r.body = std::move(body);
  return r;
}
} // namespace

TEST(Flow, GithubDefaultsFillEndpointsAndScope) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->authorize_url, "https://github.com/login/oauth/authorize");
  EXPECT_EQ(p->token_url, "https://github.com/login/oauth/access_token");
  EXPECT_EQ(p->userinfo_url, "https://api.github.com/user");
  c.authorize_url = "https://ghe.example/login/oauth/authorize";
  EXPECT_EQ(resolve_provider(c)->authorize_url, "https://ghe.example/login/oauth/authorize");
}

TEST(Flow, AuthorizeUrlCarriesEveryParameterEncoded) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  Pkce pkce = new_pkce(system_random());
  EXPECT_EQ(pkce.challenge, base64url_encode(sha256(pkce.verifier)));
  EXPECT_EQ(pkce.verifier.size(), 43u);
  auto url = authorize_url(*p, "https://www.example.com/auth/callback/github", "st4te", pkce.challenge);
  ASSERT_TRUE(url.ok());
  auto parts = parse_url(*url);
  ASSERT_TRUE(parts.ok());
  Params q = parse_query(parts->query);
  EXPECT_EQ(find_param(q, "response_type").value, "code");
  EXPECT_EQ(find_param(q, "client_id").value, "Iv1.client");
  EXPECT_EQ(find_param(q, "redirect_uri").value, "https://www.example.com/auth/callback/github");
  EXPECT_EQ(find_param(q, "scope").value, "read:user user:email");
  EXPECT_EQ(find_param(q, "state").value, "st4te");
  EXPECT_EQ(find_param(q, "code_challenge").value, pkce.challenge);
  EXPECT_EQ(find_param(q, "code_challenge_method").value, "S256");
  EXPECT_EQ(find_param(q, "client_secret").state, ParamState::missing);
}

TEST(Flow, TokenAnswerInJsonOrFormEncoding) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  auto json = parse_token_response(
      *p,
      answer(
          200, "application/json",
          R"({"access_token":"gho_x","token_type":"bearer","expires_in":28800,"refresh_token":"ghr_y","refresh_token_expires_in":15897600})"),
      1000);
  ASSERT_TRUE(json.ok()) << json.error().reason;
  EXPECT_EQ(json->access_token, "gho_x");
  EXPECT_EQ(json->expires_at, 1000 + 28800);
  EXPECT_EQ(json->refresh_token, "ghr_y");
  EXPECT_EQ(json->refresh_expires_at, 1000 + 15897600);
  auto form = parse_token_response(*p,
                                   answer(200, "application/x-www-form-urlencoded",
                                          "access_token=gho_f&scope=read%3Auser&token_type=bearer"),
                                   0);
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(form->access_token, "gho_f");
  EXPECT_EQ(form->scope, "read:user");
}

TEST(Flow, AnErrorFieldFailsEvenWithStatus200) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  auto r = parse_token_response(
      *p,
      answer(
          200, "application/json",
          R"({"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."})"),
      0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_NE(r.error().reason.find("bad_verification_code"), std::string::npos);
  auto f = parse_token_response(
      *p, answer(200, "application/x-www-form-urlencoded", "error=bad_verification_code"), 0);
  EXPECT_FALSE(f.ok());
}

TEST(Flow, MalformedTokenAnswersAreProviderErrors) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  for (auto [status, ct, body] : std::vector<std::tuple<long, std::string, std::string>>{
           {200, "text/html", "<html>login</html>"},
           {200, "application/json", "{not json"},
           {200, "application/json", ""},
           {200, "application/json", "[1,2]"},
           {200, "application/json", R"({"token_type":"bearer"})"},
           {200, "application/json", R"({"access_token":"x","token_type":"mac"})"},
           {500, "text/plain", "oops"},
           {503, "", ""}}) {
    auto r = parse_token_response(*p, answer(status, ct, body), 0);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().kind, ErrorKind::provider_error) << body;
  }
}

TEST(Flow, ExchangePostsCodeVerifierAndClientCredentials) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  testutil::FakeHttp http;
  http.on_json("https://github.com/login/oauth/access_token", 200,
               R"({"access_token":"t","token_type":"bearer"})");
  auto t = exchange_code(http, *p, "https://w/cb", "the-code", "the-verifier", 0);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(http.requests.size(), 1u);
  const HttpRequest& req = http.requests[0];
  EXPECT_EQ(req.method, "POST");
  Params form = parse_query(req.body);
  EXPECT_EQ(find_param(form, "grant_type").value, "authorization_code");
  EXPECT_EQ(find_param(form, "code").value, "the-code");
  EXPECT_EQ(find_param(form, "code_verifier").value, "the-verifier");
  EXPECT_EQ(find_param(form, "redirect_uri").value, "https://w/cb");
  EXPECT_EQ(find_param(form, "client_id").value, "Iv1.client");
  EXPECT_EQ(find_param(form, "client_secret").value, "s3cret");
  bool accept_json = false;
  for (auto& [k, v] : req.headers)
    accept_json |= (k == "Accept" && v == "application/json");
  EXPECT_TRUE(accept_json);
}

TEST(Flow, GithubProfileFallsBackToPrimaryVerifiedEmail) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  testutil::FakeHttp http;
  http.on_json(
      "https://api.github.com/user/emails", 200,
      R"([{"email":"old@x","primary":false,"verified":true},{"email":"main@x","primary":true,"verified":true}])");
  http.on_json(
      "https://api.github.com/user", 200,
      R"({"login":"octocat","id":583231,"name":"The Octocat","email":null,"avatar_url":"https://a/u"})");
  TokenSet t;
  t.access_token = "tok";
  auto profile = fetch_profile(http, *p, t);
  ASSERT_TRUE(profile.ok()) << profile.error().reason;
  EXPECT_EQ(profile->id, "583231");
  EXPECT_EQ(profile->login, "octocat");
  EXPECT_EQ(profile->email, "main@x");
  EXPECT_EQ(
      profile_json(*profile),
      R"({"provider":"github","id":"583231","login":"octocat","name":"The Octocat","email":"main@x","avatar_url":"https://a/u"})");
  bool bearer = false, version = false;
  for (auto& [k, v] : http.requests[0].headers) {
    bearer |= (k == "Authorization" && v == "Bearer tok");
    version |= (k == "X-GitHub-Api-Version");
  }
  EXPECT_TRUE(bearer);
  EXPECT_TRUE(version);
}

TEST(Flow, UserEndpointRefusalsAreProviderErrors) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  TokenSet t;
  t.access_token = "tok";
  for (auto [status, body] :
       std::vector<std::pair<long, std::string>>{{401, R"({"message":"Bad credentials"})"},
                                                 {500, "x"},
                                                 {200, "<html>"},
                                                 {200, R"({"login":"noid"})"}}) {
    testutil::FakeHttp http;
    http.on_json("https://api.github.com/user", status, body);
    auto r = fetch_profile(http, *p, t);
    ASSERT_FALSE(r.ok()) << body;
    // A 401 is told apart (the token may be refreshed and the call retried); all are 502s.
    EXPECT_EQ(r.error().kind, status == 401 ? ErrorKind::token_rejected : ErrorKind::provider_error);
    EXPECT_EQ(http_status(r.error().kind), 502);
  }
}

TEST(Flow, GenericUserinfoIgnoresUnverifiedEmail) {
  ProviderConfig c;
  c.name = "corp";
  c.type = ProviderType::oauth2;
  auto p = resolve_provider(c);
  auto user = json_parse(R"({"sub":"u1","preferred_username":"ann","email":"a@x","email_verified":false})");
  auto profile = normalize_profile(*p, user->get());
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(profile->login, "ann");
  EXPECT_FALSE(profile->email.has_value());
  EXPECT_EQ(profile->user(), "ann");
}

// Two members of one name: which one counts depends on the parser, so neither does.
TEST(Flow, ProviderAnswersNamingAMemberTwiceAreRefused) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  auto token = parse_token_response(
      *p, answer(200, "application/json", R"({"access_token":"a","token_type":"bearer","access_token":"b"})"),
      0);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().kind, ErrorKind::provider_error);
  EXPECT_NE(token.error().reason.find("github token endpoint"), std::string::npos) << token.error().reason;
  EXPECT_NE(token.error().reason.find("\"access_token\" twice"), std::string::npos) << token.error().reason;

  TokenSet t;
  t.access_token = "tok";
  testutil::FakeHttp http;
  http.on_json("https://api.github.com/user", 200, R"({"login":"octocat","id":583231,"login":"admin"})");
  auto user = fetch_profile(http, *p, t);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(http_status(user.error().kind), 502);
  EXPECT_NE(user.error().reason.find("github user endpoint"), std::string::npos) << user.error().reason;
  EXPECT_NE(user.error().reason.find("\"login\" twice"), std::string::npos) << user.error().reason;
}

TEST(Flow, GithubEmailsNamingAMemberTwiceGiveNoEmail) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  testutil::FakeHttp http;
  http.on_json("https://api.github.com/user/emails", 200,
               R"([{"email":"me@x","primary":true,"verified":true,"email":"admin@x"}])");
  http.on_json("https://api.github.com/user", 200, R"({"login":"octocat","id":583231,"email":null})");
  TokenSet t;
  t.access_token = "tok";
  auto profile = fetch_profile(http, *p, t);
  ASSERT_TRUE(profile.ok()) << profile.error().reason;
  EXPECT_EQ(profile->email, std::nullopt);
}
