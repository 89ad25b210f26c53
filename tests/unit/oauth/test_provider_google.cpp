// Provider type google (provider_google.cpp): its OpenID defaults, offline access,
// and its revocation request.
#include <gtest/gtest.h>

#include "fake_http.hpp"
#include "flow.hpp"
#include "provider.hpp"
#include "provider_test.hpp"
#include "revoke.hpp"
#include "tokens.hpp"

using namespace oauthfcgi;
using testutil::FakeHttp;
using testutil::header;
using testutil::kNow;
using testutil::provider_section;
using testutil::tokens;

TEST(ResolveProvider, GoogleIsOpenIdAndAsksOfflineWithConsentOnlyWhenTold) {
  ProviderConfig c = provider_section(ProviderType::google, "google");
  auto p = resolve_provider(c);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->openid);
  EXPECT_EQ(p->issuer, "https://accounts.google.com");
  EXPECT_EQ(p->api_url, "https://www.googleapis.com");
  EXPECT_EQ(join_scopes(p->scope), "openid email profile");
  EXPECT_TRUE(p->authorize_params.empty());
  c.offline_access = true;
  auto offline = resolve_provider(c);
  ASSERT_TRUE(offline.ok());
  EXPECT_EQ(offline->authorize_params, (Params{{"access_type", "offline"}, {"prompt", "consent"}}));
  // No offline_access scope: Google asks for offline access with access_type only.
  EXPECT_EQ(join_scopes(offline->scope), "openid email profile");
  offline->authorize_url = "https://accounts.google.com/o/oauth2/v2/auth";
  auto url = authorize_url(*offline, "https://www.example.com/auth/callback/google", "st", "ch", "no");
  ASSERT_TRUE(url.ok());
  EXPECT_NE(url->find("&access_type=offline"), std::string::npos) << *url;
  EXPECT_NE(url->find("&prompt=consent"), std::string::npos) << *url;
  EXPECT_EQ(url->find("offline_access"), std::string::npos) << *url;
}

TEST(Revoke, GoogleGetsOnlyTheTokenWithoutClientAuthentication) {
  ProviderConfig c;
  c.name = "google";
  c.type = ProviderType::google;
  c.client_id = "123.apps.googleusercontent.com";
  c.client_secret = "g-secret";
  auto p = resolve_provider(c);
  p->revoke_url = "https://oauth2.googleapis.com/revoke"; // from discovery's revocation_endpoint
  p->basic_auth = true;
  FakeHttp http;
  http.on_json("https://oauth2.googleapis.com/revoke", 200, "{}");
  ASSERT_TRUE(revoke_tokens(http, *p, tokens("ya29.AT", "1//RT"), kNow).ok());
  const HttpRequest& r = http.requests.at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://oauth2.googleapis.com/revoke");
  EXPECT_EQ(*header(r, "Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(r.body, "token=1%2F%2FRT") << "the refresh token: it ends the whole grant";
  EXPECT_TRUE(r.basic_user.empty());

  ASSERT_TRUE(revoke_tokens(http, *p, tokens("ya29.AT", ""), kNow).ok());
  EXPECT_EQ(http.requests.at(1).body, "token=ya29.AT");
}
