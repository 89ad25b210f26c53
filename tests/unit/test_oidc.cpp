// OpenID Connect without a server: discovery documents good and bad, the cache, and
// every ID token claim the client must refuse.
#include "oidc.hpp"

#include <gtest/gtest.h>

#include "fake_http.hpp"
#include "memory_store.hpp"

using namespace oauthfcgi;
using testutil::FakeHttp;
using testutil::MemoryStore;

namespace {

const char* kIssuer = "https://sso.example.com/realms/main";

ProviderConfig oidc_config() {
  ProviderConfig c;
  c.name = "sso";
  c.type = ProviderType::oidc;
  c.client_id = "oauth-fcgi";
  c.client_secret = "s3cret";
  c.issuer = kIssuer;
  return c;
}

std::string discovery(const std::string& extra = "", const std::string& issuer = kIssuer) {
  return R"({"issuer":")" + issuer + R"(",)" +
         R"("authorization_endpoint":"https://sso.example.com/auth","token_endpoint":"https://sso.example.com/token",)"
         R"("userinfo_endpoint":"https://sso.example.com/userinfo","jwks_uri":"https://sso.example.com/jwks",)"
         R"("response_types_supported":["code"])" +
         extra + "}";
}

Result<void> apply_doc(const ProviderConfig& c, const std::string& doc, Provider* out = nullptr) {
  auto p = resolve_provider(c);
  auto d = json_parse_object(doc);
  if (!d.ok()) return d.error();
  auto r = apply_discovery(*p, d->get());
  if (out) *out = *p;
  return r;
}

std::string claims(const std::string& extra = "", long iat = 1000, long exp = 2000) {
  return R"({"iss":")" + std::string(kIssuer) + R"(","sub":"u1","aud":"oauth-fcgi","nonce":"n0nce","iat":)" +
         std::to_string(iat) + R"(,"exp":)" + std::to_string(exp) + extra + "}";
}

Result<void> check(const std::string& text, long now = 1500, const std::string& nonce = "n0nce") {
  auto c = json_parse_object(text);
  if (!c.ok()) return c.error();
  return check_id_token_claims(c->get(), kIssuer, "oauth-fcgi", nonce, now);
}

} // namespace

TEST(OidcDiscovery, FillsEndpointsAndDefaults) {
  ProviderConfig c = oidc_config();
  Provider p;
  ASSERT_TRUE(apply_doc(c, discovery(), &p).ok());
  EXPECT_EQ(p.authorize_url, "https://sso.example.com/auth");
  EXPECT_EQ(p.token_url, "https://sso.example.com/token");
  EXPECT_EQ(p.userinfo_url, "https://sso.example.com/userinfo");
  EXPECT_EQ(p.jwks_uri, "https://sso.example.com/jwks");
  EXPECT_EQ(p.id_token_algs, (std::vector<std::string>(1, "RS256"))) << "RS256 by default";
  EXPECT_TRUE(p.basic_auth) << "client_secret_basic when the server doesn't say";
  EXPECT_FALSE(p.iss_parameter_supported);
  EXPECT_EQ(p.scope.front(), "openid");
}

TEST(OidcDiscovery, ConfigEndpointsWinOverTheDocument) {
  ProviderConfig c = oidc_config();
  c.token_url = "https://override.example.com/token";
  Provider p;
  ASSERT_TRUE(apply_doc(c, discovery(), &p).ok());
  EXPECT_EQ(p.token_url, "https://override.example.com/token");
}

TEST(OidcDiscovery, RefusesAnotherIssuerPlainHttpAndMissingEndpoints) {
  ProviderConfig c = oidc_config();
  EXPECT_FALSE(apply_doc(c, discovery("", "https://evil.example.com/realms/main")).ok());
  EXPECT_FALSE(apply_doc(c, discovery("", std::string(kIssuer) + "/")).ok()) << "exact match, even the slash";
  EXPECT_FALSE(apply_doc(c, R"({"issuer":")" + std::string(kIssuer) +
                                R"(","authorization_endpoint":"https://a","jwks_uri":"https://j"})")
                   .ok())
      << "no token_endpoint";
  std::string http = discovery();
  http.replace(http.find("https://sso.example.com/token"), 29, "http://sso.example.com/token");
  EXPECT_FALSE(apply_doc(c, http).ok());
}

TEST(OidcDiscovery, KeepsOnlyAlgorithmsWeTrust) {
  ProviderConfig c = oidc_config();
  Provider p;
  ASSERT_TRUE(
      apply_doc(c, discovery(R"(,"id_token_signing_alg_values_supported":["none","HS256","ES256","RS256"])"),
                &p)
          .ok());
  EXPECT_EQ(p.id_token_algs, (std::vector<std::string>{"ES256", "RS256"}));
  EXPECT_FALSE(apply_doc(c, discovery(R"(,"id_token_signing_alg_values_supported":["none","HS256"])")).ok());
}

TEST(OidcDiscovery, ClientAuthFollowsTheServer) {
  ProviderConfig c = oidc_config();
  Provider p;
  ASSERT_TRUE(
      apply_doc(c, discovery(R"(,"token_endpoint_auth_methods_supported":["client_secret_post"])"), &p).ok());
  EXPECT_FALSE(p.basic_auth);
  ASSERT_TRUE(apply_doc(c, discovery(R"(,"authorization_response_iss_parameter_supported":true)"), &p).ok());
  EXPECT_TRUE(p.iss_parameter_supported);
  EXPECT_FALSE(
      apply_doc(c, discovery(R"(,"token_endpoint_auth_methods_supported":["private_key_jwt"])")).ok());
}

TEST(OidcDiscovery, IsCachedAndAStaleCopyIsReplaced) {
  ProviderConfig c = oidc_config();
  MemoryStore store;
  FakeHttp http;
  http.on_json(std::string(kIssuer) + "/.well-known/openid-configuration", 200, discovery());
  auto p = resolve_provider(c);
  ASSERT_TRUE(discover(*p, store, http).ok());
  auto again = resolve_provider(c);
  ASSERT_TRUE(discover(*again, store, http).ok());
  EXPECT_EQ(http.requests.size(), 1u) << "the second read comes from Redis";
  EXPECT_EQ(again->token_url, "https://sso.example.com/token");
  // A cached document that no longer fits is fetched again, once.
  ProviderConfig moved = c;
  moved.issuer = "https://sso.example.com/realms/main"; // same issuer, different cached doc below
  MemoryStore poisoned;
  FakeHttp http2;
  http2.on_json(std::string(kIssuer) + "/.well-known/openid-configuration", 200, discovery());
  auto q = resolve_provider(moved);
  ASSERT_TRUE(discover(*q, poisoned, http2).ok());
  for (const auto& key : poisoned.keys())
    ASSERT_TRUE(poisoned.set(key, discovery("", "https://other.example"), std::chrono::seconds(60)).ok());
  auto r = resolve_provider(moved);
  EXPECT_TRUE(discover(*r, poisoned, http2).ok());
  EXPECT_EQ(http2.requests.size(), 2u);
}

TEST(OidcDiscovery, TransportAndShapeFailuresAreProviderErrors) {
  ProviderConfig c = oidc_config();
  MemoryStore store;
  FakeHttp http;
  http.on_answer(std::string(kIssuer) + "/.well-known/openid-configuration", 200,
                 {{"content-type", "text/html"}}, "<html>login</html>");
  auto p = resolve_provider(c);
  auto r = discover(*p, store, http);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_TRUE(store.keys().empty()) << "nothing bad is cached";
}

TEST(IdTokenClaims, AGoodTokenPasses) {
  EXPECT_TRUE(check(claims()).ok());
  EXPECT_TRUE(check(claims(R"(,"azp":"oauth-fcgi")")).ok());
  EXPECT_TRUE(check(claims(), 2000 + kClockSkew - 1).ok()) << "a little skew is allowed";
}

TEST(IdTokenClaims, EachWrongClaimIsRefused) {
  auto refused = [](const std::string& text, long now = 1500, const std::string& nonce = "n0nce") {
    auto r = check(text, now, nonce);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.error().reason;
  };
  std::string base = claims();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_NE(refused(with(kIssuer, "https://evil.example")).find("iss"), std::string::npos);
  EXPECT_NE(refused(with(R"("aud":"oauth-fcgi")", R"("aud":"other")")).find("aud"), std::string::npos);
  EXPECT_NE(refused(with(R"("aud":"oauth-fcgi")", R"("aud":["oauth-fcgi","other"])")).find("azp"),
            std::string::npos);
  refused(with(R"("aud":"oauth-fcgi")", R"("aud":["oauth-fcgi","other"],"azp":"other")"));
  refused(claims(R"(,"azp":"other")"));
  EXPECT_NE(refused(base, 2000 + kClockSkew).find("expired"), std::string::npos);
  EXPECT_NE(refused(claims("", 1500 + kClockSkew + 1, 5000)).find("future"), std::string::npos);
  EXPECT_NE(refused(base, 1500, "another").find("nonce"), std::string::npos);
  refused(with(R"(,"nonce":"n0nce")", ""));
  refused(with(R"("sub":"u1",)", ""));
  refused(with(R"(,"exp":2000)", ""));
  refused(with(R"("iat":1000,)", ""));
  refused(with(R"("sub":"u1")", R"("sub":"")"));
  refused(with(R"("aud":"oauth-fcgi")", R"("aud":42)"));
}
