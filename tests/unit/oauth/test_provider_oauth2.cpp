// Provider type oauth2 (provider_oauth2.cpp): no hooks, no OpenID, the endpoints a
// section must name, its one type-only key (trust_email), and its email rule.
#include <gtest/gtest.h>

#include "profile.hpp"
#include "provider.hpp"
#include "provider_test.hpp"

using namespace oauthfcgi;
using testutil::provider_section;
using testutil::section_problems;

TEST(ResolveProvider, PlainOauth2HasNoHooksAndNoOpenId) {
  ProviderConfig c = provider_section(ProviderType::oauth2, "forge");
  c.authorize_url = "https://forge.example/authorize";
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->openid);
  EXPECT_EQ(p->authorize_url, "https://forge.example/authorize");
  EXPECT_EQ(p->hooks.answer_error, nullptr);
  EXPECT_EQ(p->hooks.complete_profile, nullptr);
  EXPECT_EQ(p->api_headers, (Headers{{"Accept", "application/json"}}));
}

TEST(Oauth2Config, NeedsItsThreeEndpointsAndRefusesOtherTypesKeys) {
  std::string problems = section_problems("type = oauth2\nauthorize_url = https://as.example/a\n"
                                          "offline_access = true\nissuer = https://as.example\n");
  EXPECT_EQ(
      problems,
      "1: missing token_url in [provider x] (type oauth2 needs authorize_url, token_url and userinfo_url)\n"
      "1: missing userinfo_url in [provider x] (type oauth2 needs authorize_url, token_url and "
      "userinfo_url)\n"
      "6: offline_access applies only to types oidc, google and gitlab, not oauth2 (remove it)\n"
      "7: issuer applies only to types oidc and google, not oauth2 (remove it)\n");
}

TEST(Oauth2Config, TrustEmailIsABooleanOfTypeOauth2Only) {
  const std::string endpoints = "authorize_url = https://as.example/a\ntoken_url = https://as.example/t\n"
                                "userinfo_url = https://as.example/u\n";
  EXPECT_EQ(section_problems("type = oauth2\n" + endpoints + "trust_email = true\n"), "");
  EXPECT_NE(section_problems("type = oauth2\n" + endpoints + "trust_email = maybe\n"), "");
  EXPECT_EQ(section_problems("type = oidc\nissuer = https://as.example\ntrust_email = true\n"),
            "6: trust_email applies only to type oauth2, not oidc (remove it)\n");
}

// trust_email: the server checks every address itself, so an unmarked one counts; one it
// marks unverified still does not.
TEST(Oauth2Profile, TrustEmailUsesAnUnmarkedEmailButNeverOneMarkedFalse) {
  ProviderConfig c = provider_section(ProviderType::oauth2, "forge");
  c.trust_email = true;
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  Json unmarked = testutil::parse_json(R"({"id":12,"email":"bob@example.org"})");
  auto trusted = normalize_profile(*p, unmarked.get());
  ASSERT_TRUE(trusted.ok());
  EXPECT_EQ(trusted->email, "bob@example.org");
  EXPECT_EQ(trusted->user(), "bob@example.org");
  Json marked_false = testutil::parse_json(R"({"id":12,"email":"bob@example.org","verified":"false"})");
  auto refused = normalize_profile(*p, marked_false.get());
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->email, std::nullopt);
  ProviderConfig plain = provider_section(ProviderType::oauth2, "forge");
  auto q = resolve_provider(plain);
  auto untrusted = normalize_profile(*q, unmarked.get());
  ASSERT_TRUE(untrusted.ok());
  EXPECT_EQ(untrusted->email, std::nullopt);
  EXPECT_EQ(untrusted->user(), "12");
}
