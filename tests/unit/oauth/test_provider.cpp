// Provider types as data (provider.cpp): each type's endpoints, default scope, token
// request shape and hooks, what a section overrides, and the redirect_uri.
#include "provider.hpp"

#include <gtest/gtest.h>

#include "handler_harness.hpp"
#include "tokens.hpp"

using namespace oauthfcgi;

namespace {

ProviderConfig section(ProviderType type, const char* name) {
  ProviderConfig c;
  c.name = name;
  c.type = type;
  c.client_id = "id";
  c.client_secret = "secret";
  return c;
}

} // namespace

TEST(ResolveProvider, GithubGetsItsEndpointsScopeHeadersAndHooks) {
  ProviderConfig c = section(ProviderType::github, "gh");
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
  EXPECT_EQ(p->api_headers,
            (Headers{{"Accept", "application/vnd.github+json"}, {"X-GitHub-Api-Version", "2022-11-28"}}));
}

TEST(ResolveProvider, ASectionsEndpointsAndScopeOverrideTheDefaults) {
  ProviderConfig c = section(ProviderType::github, "ghes");
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

TEST(ResolveProvider, FacebookAsksByGetWithoutGrantTypeAndSigns) {
  ProviderConfig c = section(ProviderType::facebook, "fb");
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

TEST(ResolveProvider, GoogleIsOpenIdAndAsksOfflineWithConsentOnlyWhenTold) {
  ProviderConfig c = section(ProviderType::google, "google");
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->openid);
  EXPECT_EQ(p->issuer, "https://accounts.google.com");
  EXPECT_EQ(join_scopes(p->scope), "openid email profile");
  EXPECT_TRUE(p->authorize_params.empty());
  c.offline_access = true;
  auto offline = resolve_provider(c);
  ASSERT_TRUE(offline.ok());
  EXPECT_EQ(offline->authorize_params, (Params{{"access_type", "offline"}, {"prompt", "consent"}}));
}

TEST(ResolveProvider, GitlabsIssuerIsItsBaseUrlAndOfflineAddsAScope) {
  ProviderConfig c = section(ProviderType::gitlab, "gitlab");
  c.base_url = "https://gitlab.example";
  c.offline_access = true;
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->openid);
  EXPECT_EQ(p->issuer, "https://gitlab.example");
  EXPECT_EQ(join_scopes(p->scope), "openid profile email offline_access");
  EXPECT_EQ(p->display_name, "GitLab");
}

TEST(ResolveProvider, OidcAlwaysAsksForOpenidFirstAndOnce) {
  ProviderConfig c = section(ProviderType::oidc, "corp");
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

TEST(ResolveProvider, PlainOauth2HasNoHooksAndNoOpenId) {
  ProviderConfig c = section(ProviderType::oauth2, "forge");
  c.authorize_url = "https://forge.example/authorize";
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->openid);
  EXPECT_EQ(p->authorize_url, "https://forge.example/authorize");
  EXPECT_EQ(p->hooks.answer_error, nullptr);
  EXPECT_EQ(p->hooks.complete_profile, nullptr);
  EXPECT_EQ(p->api_headers, (Headers{{"Accept", "application/json"}}));
}

class RedirectUri : public testutil::HandlerTest {};

TEST_F(RedirectUri, IsPublicUrlRoutePrefixCallbackAndName) {
  load_config("[server]\npublic_url = https://www.example.com\nsecret_file = secret\nroute_prefix = /login\n"
              "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = s\n");
  EXPECT_EQ(redirect_uri(*config_, "github"), "https://www.example.com/login/callback/github");
}
