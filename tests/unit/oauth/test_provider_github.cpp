// Provider type github (provider_github.cpp) against a scripted HttpClient: its
// defaults, the /user mapping and the email list, rate-limit answers, organisations,
// and revocation.
#include "provider_github.hpp"

#include <gtest/gtest.h>

#include "fake_http.hpp"
#include "flow.hpp"
#include "profile.hpp"
#include "provider_test.hpp"
#include "revoke.hpp"
#include "tokens.hpp"

using namespace oauthfcgi;
using testutil::FakeHttp;
using testutil::github_test_config;
using testutil::header;
using testutil::kNow;
using testutil::parse_json;
using testutil::provider_of;
using testutil::provider_section;
using testutil::tokens;

namespace {

TokenSet github_token() {
  TokenSet t;
  t.access_token = "gho_x";
  return t;
}

} // namespace

TEST(ResolveProvider, GithubGetsItsEndpointsScopeHeadersAndHooks) {
  ProviderConfig c = provider_section(ProviderType::github, "gh");
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->name, "gh");
  EXPECT_EQ(p->config, &c);
  EXPECT_EQ(p->authorize_url, "https://github.com/login/oauth/authorize");
  EXPECT_EQ(p->token_url, "https://github.com/login/oauth/access_token");
  EXPECT_EQ(p->userinfo_url, "https://api.github.com/user");
  EXPECT_EQ(p->emails_url, "https://api.github.com/user/emails");
  EXPECT_EQ(join_scopes(p->scope), "read:user user:email");
  EXPECT_EQ(p->token_request, TokenRequestStyle::post_form);
  EXPECT_FALSE(p->openid);
  EXPECT_EQ(p->display_name, "GitHub");
  EXPECT_NE(p->hooks.answer_error, nullptr);
  EXPECT_NE(p->hooks.complete_profile, nullptr);
  EXPECT_EQ(p->hooks.finish_tokens, nullptr);
  EXPECT_EQ(p->api_headers, (Headers{{"Accept", "application/vnd.github+json"},
                                     {"X-GitHub-Api-Version", "2022-11-28"},
                                     {"User-Agent", "oauth-fcgi"}}));
  EXPECT_EQ(p->api_url, "https://api.github.com");
}

TEST(GithubFlow, PrimaryRateLimitIsAReasonWithTheResetTime) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_answer("https://api.github.com/user", 403,
                 {{"content-type", "application/json"},
                  {"x-ratelimit-remaining", "0"},
                  {"x-ratelimit-reset", "1700000000"}},
                 R"({"message":"API rate limit exceeded for user ID 1."})");
  auto profile = fetch_profile(http, *p, github_token());
  ASSERT_FALSE(profile.ok());
  EXPECT_EQ(profile.error().kind, ErrorKind::provider_error);
  EXPECT_NE(profile.error().reason.find("rate limit"), std::string::npos) << profile.error().reason;
  EXPECT_NE(profile.error().reason.find("2023-11-14 22:13:20 UTC"), std::string::npos)
      << profile.error().reason;
}

TEST(GithubFlow, SecondaryRateLimitSaysWhenToRetry) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_answer("https://api.github.com/user", 429,
                 {{"content-type", "application/json"}, {"retry-after", "60"}},
                 R"({"message":"You have exceeded a secondary rate limit."})");
  auto profile = fetch_profile(http, *p, github_token());
  ASSERT_FALSE(profile.ok());
  EXPECT_NE(profile.error().reason.find("retry after 60 s"), std::string::npos) << profile.error().reason;
}

TEST(GithubFlow, ApiCallsCarryVersionAcceptAndBearer) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json("https://api.github.com/user/emails", 200,
               R"([{"email":"b@x.example","primary":false,"verified":true},)"
               R"({"email":"a@x.example","primary":true,"verified":true}])");
  http.on_json("https://api.github.com/user", 200, R"({"id":1,"login":"octocat","email":null})");
  TokenSet t;
  t.access_token = "gho_x";
  auto profile = fetch_profile(http, *p, t);
  ASSERT_TRUE(profile.ok()) << profile.error().reason;
  EXPECT_EQ(profile->email, "a@x.example");
  ASSERT_EQ(http.requests.size(), 2u);
  for (const HttpRequest& r : http.requests) {
    int seen = 0;
    for (auto& [name, value] : r.headers) {
      seen += name == "Authorization" && value == "Bearer gho_x";
      seen += name == "X-GitHub-Api-Version" && value == "2022-11-28";
      seen += name == "Accept" && value == "application/vnd.github+json";
    }
    EXPECT_EQ(seen, 3) << r.url;
  }
}

TEST(GithubOrgs, ListsTheLoginsOfTheFirstHundred) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok()) << p.error().reason;
  FakeHttp http;
  http.on_json("https://api.github.com/user/orgs", 200,
               R"([{"login":"acme","id":1},{"id":2},{"login":"widgets","id":3}])");
  auto orgs = github_orgs(http, *p, github_token());
  ASSERT_TRUE(orgs.ok()) << orgs.error().reason;
  EXPECT_EQ(*orgs, (std::vector<std::string>{"acme", "widgets"}));
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_NE(http.requests[0].url.find("per_page=100"), std::string::npos) << http.requests[0].url;
  EXPECT_EQ(testutil::header_of(http.requests[0], "Authorization"), "Bearer gho_x");
}

TEST(GithubOrgs, RateLimitIsTheSameReasonAsForTheUser) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_answer("https://api.github.com/user/orgs", 403,
                 {{"content-type", "application/json"}, {"x-ratelimit-remaining", "0"}},
                 R"({"message":"API rate limit exceeded"})");
  auto orgs = github_orgs(http, *p, github_token());
  ASSERT_FALSE(orgs.ok());
  EXPECT_EQ(orgs.error().kind, ErrorKind::provider_error);
  EXPECT_NE(orgs.error().reason.find("organisations endpoint: GitHub API rate limit exceeded"),
            std::string::npos)
      << orgs.error().reason;
}

TEST(GithubOrgs, AnAnswerThatIsNotAListIsAnError) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json("https://api.github.com/user/orgs", 200, R"({"login":"acme"})");
  auto orgs = github_orgs(http, *p, github_token());
  ASSERT_FALSE(orgs.ok());
  EXPECT_NE(orgs.error().reason.find("answered HTTP 200"), std::string::npos) << orgs.error().reason;

  FakeHttp broken;
  broken.on_answer("https://api.github.com/user/orgs", 500, {}, "<html>oops</html>");
  auto down = github_orgs(broken, *p, github_token());
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.error().reason.find("HTTP 500 with something that is not JSON"), std::string::npos)
      << down.error().reason;
}

TEST(GithubFlow, ForbiddenWithoutRateLimitHeadersIsNotCalledARateLimit) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json("https://api.github.com/user/orgs", 403, R"({"message":"Resource not accessible"})");
  auto orgs = github_orgs(http, *p, github_token());
  ASSERT_FALSE(orgs.ok());
  EXPECT_EQ(orgs.error().reason.find("rate limit"), std::string::npos) << orgs.error().reason;
  EXPECT_NE(orgs.error().reason.find("HTTP 403"), std::string::npos) << orgs.error().reason;
}

TEST(GithubFlow, NoVerifiedPrimaryEmailLeavesTheEmailEmptyButTheLoginStands) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json("https://api.github.com/user/emails", 200,
               R"([{"email":"a@x.example","primary":true,"verified":false}])");
  http.on_json("https://api.github.com/user", 200, R"({"id":7,"login":"octocat"})");
  auto profile = fetch_profile(http, *p, github_token());
  ASSERT_TRUE(profile.ok()) << profile.error().reason;
  EXPECT_EQ(profile->login, "octocat");
  EXPECT_EQ(profile->email, std::nullopt);
}

TEST(GithubFlow, APublicEmailOnTheUserSkipsTheEmailsCall) {
  ProviderConfig c = github_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json("https://api.github.com/user", 200, R"({"id":7,"login":"octocat","email":"o@x.example"})");
  auto profile = fetch_profile(http, *p, github_token());
  ASSERT_TRUE(profile.ok()) << profile.error().reason;
  EXPECT_EQ(profile->email, "o@x.example");
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST(NormalizeProfile, GithubTakesItsNumericIdAndLogin) {
  Json user = parse_json(R"({"id":583231,"login":"octocat","name":"The Octocat","email":null,)"
                         R"("avatar_url":"https://avatars.example/u/583231"})");
  auto p = normalize_profile(provider_of(ProviderType::github, "github"), user.get());
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->provider, "github");
  EXPECT_EQ(p->id, "583231");
  EXPECT_EQ(p->login, "octocat");
  EXPECT_EQ(p->name, "The Octocat");
  EXPECT_EQ(p->email, std::nullopt);
  EXPECT_EQ(p->avatar_url, "https://avatars.example/u/583231");
}

TEST(PrimaryVerifiedEmail, OnlyAnAddressBothPrimaryAndVerified) {
  Json emails = parse_json(R"([{"email":"b@x.example","primary":false,"verified":true},)"
                           R"({"email":"a@x.example","primary":true,"verified":true}])");
  EXPECT_EQ(primary_verified_email(emails.get()), "a@x.example");
  Json unverified = parse_json(R"([{"email":"a@x.example","primary":true,"verified":false}])");
  EXPECT_EQ(primary_verified_email(unverified.get()), std::nullopt);
  Json not_a_list = parse_json(R"({"email":"a@x.example","primary":true,"verified":true})");
  EXPECT_EQ(primary_verified_email(not_a_list.get()), std::nullopt);
}

TEST(Revoke, GithubDeletesTheAppTokenAsTheAppWithAJsonBody) {
  auto c = testutil::github_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_answer("https://api.github.com/applications/", 204, {}, "");
  auto outcome = revoke_tokens(http, *p, tokens("gho_TOKEN", ""), kNow);
  ASSERT_TRUE(outcome.ok()) << outcome.error().reason;
  EXPECT_EQ(*outcome, Revocation::revoked);
  const HttpRequest& r = http.requests.at(0);
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.url, "https://api.github.com/applications/Iv1.client/token");
  EXPECT_EQ(r.basic_user, "Iv1.client");
  EXPECT_EQ(r.basic_password, "s3cret");
  EXPECT_EQ(r.body, R"({"access_token":"gho_TOKEN"})");
  EXPECT_EQ(*header(r, "Content-Type"), "application/json");
  EXPECT_EQ(*header(r, "Accept"), "application/vnd.github+json");
  EXPECT_EQ(*header(r, "X-GitHub-Api-Version"), "2022-11-28");
  EXPECT_EQ(header(r, "Authorization"), nullptr) << "Basic as the app, not the user's Bearer";
}

TEST(Revoke, GithubRevokeUrlFollowsEnterpriseOrTheConfig) {
  auto c = testutil::github_test_config();
  c.userinfo_url = "https://ghe.example/api/v3/user";
  auto p = resolve_provider(c);
  EXPECT_EQ(github_revoke_url(*p), "https://ghe.example/api/v3/applications/Iv1.client/token");
  c.revoke_url = "https://ghe.example/custom/applications/Iv1.client/token";
  EXPECT_EQ(github_revoke_url(*resolve_provider(c)), c.revoke_url);
  c.revoke_url.clear();
  c.userinfo_url = "https://ghe.example/api/v3/whoami";
  auto odd = resolve_provider(c);
  EXPECT_EQ(github_revoke_url(*odd), "");
  FakeHttp http;
  EXPECT_EQ(*revoke_tokens(http, *odd, tokens(), kNow), Revocation::no_endpoint);
  EXPECT_TRUE(http.requests.empty());
}
