// Provider type oidc (provider_oidc.cpp): the scope and consent it asks for, and the
// config keys it takes and needs.
#include <gtest/gtest.h>

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

TEST(OidcConfig, NeedsAnIssuerAndTakesOfflineAccess) {
  std::string problems = section_problems("type = oidc\noffline_access = true\n");
  EXPECT_EQ(problems,
            "1: missing issuer in [provider x] (type oidc needs issuer = https://..., the URL before "
            "/.well-known/openid-configuration)\n");
}
