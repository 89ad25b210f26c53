// Provider type gitlab (provider_gitlab.cpp): base_url as its issuer and its default,
// offline_access asking for nothing (GitLab refuses that scope and always gives a
// refresh token), the config keys it takes, and RFC 7009 revocation.
#include <gtest/gtest.h>

#include "fake_http.hpp"
#include "flow.hpp"
#include "provider.hpp"
#include "provider_test.hpp"
#include "revoke.hpp"
#include "tokens.hpp"

using namespace oauthfcgi;
using testutil::FakeHttp;
using testutil::kNow;
using testutil::provider_section;
using testutil::section_problems;
using testutil::tokens;

// GitLab issues a refresh token with every access token and answers invalid_scope to
// offline_access: offline_access = true must not ask for it.
TEST(ResolveProvider, GitlabsIssuerIsItsBaseUrlAndOfflineAsksNoScopeGitlabRefuses) {
  ProviderConfig c = provider_section(ProviderType::gitlab, "gitlab");
  c.base_url = "https://gitlab.example";
  auto online = resolve_provider(c);
  ASSERT_TRUE(online.ok());
  c.offline_access = true;
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->openid);
  EXPECT_EQ(p->issuer, "https://gitlab.example");
  EXPECT_EQ(p->display_name, "GitLab");
  EXPECT_EQ(p->api_url, "https://gitlab.example/api/v4");
  // GitLab answers invalid_scope to offline_access, and gives a refresh token anyway.
  EXPECT_EQ(join_scopes(p->scope), "openid profile email");
  EXPECT_TRUE(p->authorize_params.empty());
  EXPECT_EQ(p->scope, online->scope);
  // What the browser is sent to: no offline_access, no prompt=consent.
  p->authorize_url = "https://gitlab.example/oauth/authorize";
  auto url = authorize_url(*p, "https://www.example.com/auth/callback/gitlab", "st", "ch", "no");
  ASSERT_TRUE(url.ok());
  EXPECT_NE(url->find("scope=openid%20profile%20email&"), std::string::npos) << *url;
  EXPECT_EQ(url->find("offline"), std::string::npos) << *url;
  EXPECT_EQ(url->find("prompt"), std::string::npos) << *url;
}

TEST(GitlabConfig, BaseUrlDefaultsToGitlabComAndIssuerPointsToIt) {
  auto load = parse_config("[provider gl]\ntype = gitlab\nclient_id = x\nclient_secret = y\n", "t.conf", ".");
  ASSERT_EQ(load.config.providers.size(), 1u);
  EXPECT_EQ(load.config.providers[0].base_url, "https://gitlab.com");
  std::string problems =
      section_problems("type = gitlab\nissuer = https://gitlab.example\noffline_access = true\n");
  EXPECT_NE(
      problems.find("5: issuer applies only to types oidc and google, not gitlab (gitlab uses base_url)\n"),
      std::string::npos)
      << problems;
  EXPECT_EQ(problems.find("offline_access"), std::string::npos) << problems;
}

TEST(GitlabRevoke, IsRfc7009AtTheDiscoveredEndpoint) {
  ProviderConfig c = provider_section(ProviderType::gitlab, "gitlab");
  c.base_url = "https://gitlab.example";
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  FakeHttp http;
  EXPECT_EQ(*revoke_tokens(http, *p, tokens(), kNow), Revocation::no_endpoint);
  p->revoke_url = "https://gitlab.example/oauth/revoke"; // from discovery's revocation_endpoint
  http.on_answer("https://gitlab.example/oauth/revoke", 200, {}, "");
  EXPECT_EQ(*revoke_tokens(http, *p, tokens(), kNow), Revocation::revoked);
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].body,
            "token=RT-1&token_type_hint=refresh_token&client_id=id&client_secret=secret");
}
