// Provider type facebook (provider_facebook.cpp) against a scripted HttpClient: its
// defaults following graph_version, the login's token exchanges and debug_token, Graph
// errors, appsecret_proof, the /me mapping, and revocation.
#include "provider_facebook.hpp"

#include <gtest/gtest.h>

#include "fake_http.hpp"
#include "flow.hpp"
#include "profile.hpp"
#include "provider_test.hpp"
#include "revoke.hpp"
#include "tokens.hpp"

using namespace oauthfcgi;
using testutil::facebook_test_config;
using testutil::FakeHttp;
using testutil::header;
using testutil::kNow;
using testutil::parse_json;
using testutil::provider_of;
using testutil::provider_section;
using testutil::tokens;

namespace {

Params query_of(const std::string& url) {
  auto parts = parse_url(url);
  return parts.ok() ? parse_query(parts->query) : Params{};
}

const char* kGraph = "https://graph.facebook.com/v19.0";

// A Graph that answers the whole login the happy way.
void happy_graph(FakeHttp& http) {
  http.on(std::string(kGraph) + "/oauth/access_token", [](const HttpRequest& r) -> Result<HttpResponse> {
    HttpResponse a;
    a.status = 200;
    a.headers = {{"content-type", "application/json; charset=UTF-8"}};
    bool exchange = find_param(query_of(r.url), "grant_type").value == "fb_exchange_token";
    a.body = exchange ? R"({"access_token":"EAAlong","token_type":"bearer","expires_in":5183944})"
                      : R"({"access_token":"EAAshort","token_type":"bearer","expires_in":5000})";
    return a;
  });
  http.on_json(
      std::string(kGraph) + "/debug_token", 200,
      R"({"data":{"app_id":"1234567890","type":"USER","application":"Demo","expires_at":1005183944,)"
      R"("is_valid":true,"issued_at":1000000000,"scopes":["email","public_profile"],"user_id":"10001"}})");
  http.on_json(
      std::string(kGraph) + "/me", 200,
      R"({"id":"10001","name":"Alice Example","email":"alice@example.com",)"
      R"("picture":{"data":{"height":50,"is_silhouette":false,"url":"https://pic.example/a.jpg","width":50}}})");
}

} // namespace

TEST(ResolveProvider, FacebookAsksByGetWithoutGrantTypeAndSigns) {
  ProviderConfig c = provider_section(ProviderType::facebook, "fb");
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->token_request, TokenRequestStyle::get_query);
  EXPECT_FALSE(p->send_grant_type);
  EXPECT_EQ(p->revoke_url, "https://graph.facebook.com/v19.0/me/permissions");
  EXPECT_EQ(p->userinfo_params, (Params{{"fields", "id,name,email,picture"}}));
  EXPECT_NE(p->hooks.finish_tokens, nullptr);
  EXPECT_NE(p->hooks.sign_api_request, nullptr);
  EXPECT_EQ(p->display_name, "Facebook");
}

TEST(FacebookFlow, DefaultsFollowTheGraphVersion) {
  ProviderConfig c = facebook_test_config();
  c.graph_version = "v21.0";
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->authorize_url, "https://www.facebook.com/v21.0/dialog/oauth");
  EXPECT_EQ(p->token_url, "https://graph.facebook.com/v21.0/oauth/access_token");
  EXPECT_EQ(p->userinfo_url, "https://graph.facebook.com/v21.0/me");
  EXPECT_EQ(p->api_url, "https://graph.facebook.com/v21.0");
  EXPECT_EQ(p->debug_token_url, "https://graph.facebook.com/v21.0/debug_token");
  EXPECT_EQ(join_scopes(p->scope), "email public_profile");
}

TEST(FacebookFlow, AppsecretProofIsHexHmacSha256OfTheTokenKeyedByTheSecret) {
  // printf EAAtoken | openssl dgst -sha256 -hmac app-secret
  EXPECT_EQ(appsecret_proof("app-secret", "EAAtoken"),
            "9f9f0867bc3df2d00cecd6aa6fb78e65b64c050401bd6ec5b84d98503d443d34");
  EXPECT_NE(appsecret_proof("app-secret", "EAAtoken"), appsecret_proof("other", "EAAtoken"));
}

TEST(FacebookFlow, LoginExchangesByGetThenLongLivedThenDebugTokenThenSignedMe) {
  ProviderConfig c = facebook_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  happy_graph(http);
  auto tokens = exchange_code(http, *p, "https://www.example.com/auth/callback/facebook", "the-code",
                              "the-verifier", 1000000000);
  ASSERT_TRUE(tokens.ok()) << tokens.error().reason;
  ASSERT_EQ(http.requests.size(), 3u);
  // 1. the code, by GET, redirect_uri identical to the dialog's, no grant_type
  EXPECT_EQ(http.requests[0].method, "GET");
  Params q = query_of(http.requests[0].url);
  EXPECT_EQ(find_param(q, "client_id").value, "1234567890");
  EXPECT_EQ(find_param(q, "client_secret").value, "app-secret");
  EXPECT_EQ(find_param(q, "redirect_uri").value, "https://www.example.com/auth/callback/facebook");
  EXPECT_EQ(find_param(q, "code").value, "the-code");
  EXPECT_EQ(find_param(q, "code_verifier").value, "the-verifier");
  EXPECT_EQ(find_param(q, "grant_type").state, ParamState::missing);
  // 2. the long-lived exchange
  q = query_of(http.requests[1].url);
  EXPECT_EQ(find_param(q, "grant_type").value, "fb_exchange_token");
  EXPECT_EQ(find_param(q, "fb_exchange_token").value, "EAAshort");
  // 3. debug_token with the app token
  q = query_of(http.requests[2].url);
  EXPECT_EQ(find_param(q, "input_token").value, "EAAlong");
  EXPECT_EQ(find_param(q, "access_token").value, "1234567890|app-secret");
  EXPECT_EQ(tokens->access_token, "EAAlong");
  EXPECT_EQ(tokens->expires_at, 1005183944);
  EXPECT_EQ(tokens->scope, "email public_profile");
  EXPECT_EQ(tokens->subject, "10001");

  auto profile = fetch_profile(http, *p, *tokens);
  ASSERT_TRUE(profile.ok()) << profile.error().reason;
  const HttpRequest& me = http.requests.back();
  q = query_of(me.url);
  EXPECT_EQ(find_param(q, "fields").value, "id,name,email,picture");
  EXPECT_EQ(find_param(q, "appsecret_proof").value, appsecret_proof("app-secret", "EAAlong"));
  EXPECT_EQ(find_param(q, "access_token").state, ParamState::missing) << "the token goes in a header";
  bool bearer = false;
  for (auto& [name, value] : me.headers)
    bearer |= name == "Authorization" && value == "Bearer EAAlong";
  EXPECT_TRUE(bearer);
  EXPECT_EQ(profile->id, "10001");
  EXPECT_EQ(profile->name, "Alice Example");
  EXPECT_EQ(profile->email, "alice@example.com");
  EXPECT_EQ(profile->avatar_url, "https://pic.example/a.jpg");
  EXPECT_FALSE(profile->login);
  EXPECT_EQ(profile->user(), "alice@example.com");
}

TEST(FacebookFlow, OlderFormEncodedAnswerWithExpiresIsRead) {
  ProviderConfig c = facebook_test_config();
  auto p = resolve_provider(c);
  HttpResponse r;
  r.status = 200;
  r.headers = {{"content-type", "text/plain; charset=UTF-8"}};
  r.body = "access_token=EAAold&expires=5183999";
  auto t = parse_token_response(*p, r, 100);
  ASSERT_TRUE(t.ok()) << t.error().reason;
  EXPECT_EQ(t->access_token, "EAAold");
  EXPECT_EQ(t->expires_at, 100 + 5183999);
}

TEST(FacebookFlow, GraphErrorsBecomeReasonsWithTheirCodes) {
  ProviderConfig c = facebook_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json(std::string(kGraph) + "/oauth/access_token", 400,
               R"({"error":{"message":"This authorization code has been used.","type":"OAuthException",)"
               R"("code":100,"error_subcode":36009,"fbtrace_id":"AbC"}})");
  auto t = exchange_code(http, *p, "https://www.example.com/auth/callback/facebook", "c0de", "v", 0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::provider_error);
  EXPECT_NE(t.error().reason.find("already used"), std::string::npos) << t.error().reason;
  EXPECT_NE(t.error().reason.find("100/36009"), std::string::npos) << t.error().reason;
}

TEST(FacebookFlow, InvalidTokenAtMeIsCode190) {
  ProviderConfig c = facebook_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json(std::string(kGraph) + "/me", 400,
               R"({"error":{"message":"Error validating access token: Session has expired","type":)"
               R"("OAuthException","code":190,"error_subcode":463,"fbtrace_id":"x"}})");
  TokenSet t;
  t.access_token = "EAAtok";
  auto profile = fetch_profile(http, *p, t);
  ASSERT_FALSE(profile.ok());
  EXPECT_NE(profile.error().reason.find("invalid or expired"), std::string::npos);
  EXPECT_NE(profile.error().reason.find("190/463"), std::string::npos);
}

TEST(FacebookFlow, DebugTokenOfAnotherAppOrUserIsRefused) {
  ProviderConfig c = facebook_test_config();
  auto p = resolve_provider(c);
  for (const char* data : {
           R"({"data":{"app_id":"999","type":"USER","is_valid":true,"scopes":[],"user_id":"10001"}})",
           R"({"data":{"app_id":"1234567890","type":"USER","is_valid":false,"scopes":[],"user_id":"10001"}})",
           R"({"data":{"error":{"code":190,"message":"bad"},"is_valid":false,"scopes":[]}})",
           R"({"data":{"app_id":"1234567890","type":"PAGE","is_valid":true,"user_id":"10001"}})",
           R"({"data":{"app_id":"1234567890","type":"USER","is_valid":true}})",
           // Two user_id: Graph's token is for one, another parser would read the other.
           R"({"data":{"app_id":"1234567890","is_valid":true,"user_id":"10001","user_id":"1"}})",
       }) {
    FakeHttp http;
    http.on_json(std::string(kGraph) + "/oauth/access_token", 200,
                 R"({"access_token":"EAAx","token_type":"bearer","expires_in":5000})");
    http.on_json(std::string(kGraph) + "/debug_token", 200, data);
    auto t = exchange_code(http, *p, "https://e.example/cb", "c", "v", 0);
    EXPECT_FALSE(t.ok()) << data;
    if (!t.ok()) {
      EXPECT_NE(t.error().reason.find("debug_token"), std::string::npos) << t.error().reason;
      EXPECT_EQ(t.error().reason.find("EAAx"), std::string::npos) << t.error().reason;
    }
  }
}

TEST(FacebookFlow, ProfileOfAnotherUserThanTheTokensIsRefused) {
  ProviderConfig c = facebook_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json(std::string(kGraph) + "/me", 200, R"({"id":"666","name":"Mallory"})");
  TokenSet t;
  t.access_token = "EAAtok";
  t.subject = "10001";
  auto profile = fetch_profile(http, *p, t);
  ASSERT_FALSE(profile.ok());
  EXPECT_NE(profile.error().reason.find("another"), std::string::npos);
}

TEST(Flow, ProviderTextEchoingASecretIsRedacted) {
  ProviderConfig c = facebook_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json(
      std::string(kGraph) + "/oauth/access_token", 400,
      R"({"error":{"message":"bad code c0de-XYZ for app-secret","type":"OAuthException","code":100}})");
  auto t = exchange_code(http, *p, "https://e.example/cb", "c0de-XYZ", "v", 0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().reason.find("c0de-XYZ"), std::string::npos) << t.error().reason;
  EXPECT_EQ(t.error().reason.find("app-secret"), std::string::npos) << t.error().reason;
  EXPECT_NE(t.error().reason.find("[redacted]"), std::string::npos) << t.error().reason;
}

TEST(NormalizeProfile, FacebookHasNoLoginAndItsPictureIsNested) {
  Json user = parse_json(R"({"id":"10001","name":"Alice","email":"a@x.example",)"
                         R"("picture":{"data":{"url":"https://pic.example/a.jpg"}}})");
  auto p = normalize_profile(provider_of(ProviderType::facebook, "facebook"), user.get());
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->id, "10001");
  EXPECT_EQ(p->login, std::nullopt);
  EXPECT_EQ(p->avatar_url, "https://pic.example/a.jpg");
  EXPECT_EQ(p->user(), "a@x.example");
}

TEST(Revoke, FacebookDeletesThePermissionsWithTheTokenAndAppsecretProof) {
  auto c = testutil::facebook_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json("https://graph.facebook.com/v19.0/me/permissions", 200, R"({"success":true})");
  auto outcome = revoke_tokens(http, *p, tokens("EAA-TOKEN", ""), kNow);
  ASSERT_TRUE(outcome.ok()) << outcome.error().reason;
  const HttpRequest& r = http.requests.at(0);
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.url, "https://graph.facebook.com/v19.0/me/permissions?appsecret_proof=" +
                       appsecret_proof("app-secret", "EAA-TOKEN"));
  EXPECT_EQ(*header(r, "Authorization"), "Bearer EAA-TOKEN");
  EXPECT_TRUE(r.body.empty());
}

TEST(Revoke, FacebookRefusalsAreGraphErrors) {
  auto c = testutil::facebook_test_config();
  auto p = resolve_provider(c);
  FakeHttp http;
  http.on_json("https://graph.facebook.com/", 200, R"({"success":false})");
  auto no = revoke_tokens(http, *p, tokens("EAA-TOKEN", ""), kNow);
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(no.error().reason, "facebook revocation endpoint did not answer success: true");

  FakeHttp graph;
  graph.on_json(
      "https://graph.facebook.com/", 400,
      R"({"error":{"message":"Error validating access token: EAA-TOKEN is bad","type":"OAuthException",)"
      R"("code":190,"error_subcode":458}})");
  auto bad = revoke_tokens(graph, *p, tokens("EAA-TOKEN", ""), kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::provider_error);
  EXPECT_NE(bad.error().reason.find("Graph error 190/458"), std::string::npos) << bad.error().reason;
  EXPECT_EQ(bad.error().reason.find("EAA-TOKEN"), std::string::npos) << bad.error().reason;
}
