// Provider type oauth2 (provider_oauth2.cpp): no hooks, no OpenID, the endpoints a
// section must name, and no type-only keys.
#include <gtest/gtest.h>

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

TEST(Oauth2Config, NeedsItsThreeEndpointsAndTakesNoTypeOnlyKey) {
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
