// A section resolved into a Provider (provider.cpp): what a section overrides of its
// type's defaults, and the redirect_uri. Each type's defaults: test_provider_<name>.cpp.
#include "provider.hpp"

#include <gtest/gtest.h>

#include "handler_harness.hpp"
#include "provider_test.hpp"
#include "tokens.hpp"

using namespace oauthfcgi;

using testutil::provider_section;

TEST(ResolveProvider, ASectionsEndpointsAndScopeOverrideTheDefaults) {
  ProviderConfig c = provider_section(ProviderType::github, "ghes");
  c.authorize_url = "https://git.example/login/oauth/authorize";
  c.userinfo_url = "https://git.example/api/v3/user";
  c.scope = {"read:org"};
  c.scope_set = true;
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->authorize_url, "https://git.example/login/oauth/authorize");
  EXPECT_EQ(p->userinfo_url, "https://git.example/api/v3/user");
  EXPECT_EQ(p->token_url, "https://github.com/login/oauth/access_token");
  EXPECT_EQ(join_scopes(p->scope), "read:org");
}

class RedirectUri : public testutil::HandlerTest {};

TEST_F(RedirectUri, IsPublicUrlRoutePrefixCallbackAndName) {
  load_config("[server]\npublic_url = https://www.example.com\nsecret_file = secret\nroute_prefix = /login\n"
              "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = s\n");
  EXPECT_EQ(redirect_uri(*config_, "github"), "https://www.example.com/login/callback/github");
}
