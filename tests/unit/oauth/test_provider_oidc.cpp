// Provider type oidc (provider_oidc.cpp): the scope and consent it asks for, and the
// config keys it takes and needs.
#include <gtest/gtest.h>

#include "flow.hpp"
#include "provider.hpp"
#include "provider_test.hpp"
#include "tokens.hpp"

using namespace oauthfcgi;
using testutil::provider_section;
using testutil::section_problems;

TEST(ResolveProvider, OidcAlwaysAsksForOpenidFirstAndOnce) {
  ProviderConfig c = provider_section(ProviderType::oidc, "corp");
  c.issuer = "https://id.example";
  c.scope = {"email", "openid"};
  c.scope_set = true;
  auto with = resolve_provider(c);
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(join_scopes(with->scope), "email openid");
  c.scope = {"email"};
  c.offline_access = true;
  auto without = resolve_provider(c);
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(join_scopes(without->scope), "openid email offline_access");
  EXPECT_EQ(without->authorize_params, (Params{{"prompt", "consent"}}));
  EXPECT_EQ(without->issuer, "https://id.example");
  EXPECT_EQ(without->display_name, "corp");
}

TEST(ResolveProvider, OidcOfflineAccessIsTheScopeWithConsentOnlyWhenTold) {
  ProviderConfig c = provider_section(ProviderType::oidc, "corp");
  c.issuer = "https://id.example";
  auto online = resolve_provider(c);
  ASSERT_TRUE(online.ok());
  EXPECT_EQ(join_scopes(online->scope).find("offline_access"), std::string::npos);
  EXPECT_TRUE(online->authorize_params.empty());
  c.offline_access = true;
  auto offline = resolve_provider(c);
  ASSERT_TRUE(offline.ok());
  offline->authorize_url = "https://id.example/authorize";
  auto url = authorize_url(*offline, "https://www.example.com/auth/callback/corp", "st", "ch", "no");
  ASSERT_TRUE(url.ok());
  EXPECT_NE(url->find("%20offline_access&"), std::string::npos) << *url;
  EXPECT_NE(url->find("&prompt=consent"), std::string::npos) << *url;
  EXPECT_EQ(url->find("access_type"), std::string::npos) << *url;
}

TEST(OidcConfig, NeedsAnIssuerAndTakesOfflineAccess) {
  std::string problems = section_problems("type = oidc\noffline_access = true\n");
  EXPECT_EQ(problems,
            "1: missing issuer in [provider x] (type oidc needs issuer = https://..., the URL before "
            "/.well-known/openid-configuration)\n");
}
