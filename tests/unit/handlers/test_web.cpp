// What the handlers share (web.cpp): the cookies they set and read, and a provider
// made ready with what the config's rules need.
#include <gtest/gtest.h>

#include "handler_harness.hpp"
#include "handlers.hpp"

using namespace oauthfcgi;

namespace {

class Web : public testutil::HandlerTest {
protected:
  void SetUp() override {
    load_config("[server]\npublic_url = https://www.example.com\nsecret_file = secret\n"
                "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = s\n");
  }
};

const std::string kToken(43, 'A');

} // namespace

TEST_F(Web, CookieNamesComeFromTheConfig) {
  EXPECT_EQ(session_cookie_name(*config_), "__Host-oauth_session");
  EXPECT_EQ(binding_cookie_name(*config_), "__Host-oauth_session_bind");
}

TEST_F(Web, CookiesAreHostOnlyHttpOnlyLaxAndSecureUnderHttps) {
  Cookie c = make_cookie(*config_, "n", "v", 60);
  EXPECT_EQ(c.name, "n");
  EXPECT_EQ(c.value, "v");
  EXPECT_EQ(c.max_age, 60);
  EXPECT_TRUE(c.secure);
  EXPECT_TRUE(c.http_only);
  EXPECT_EQ(c.same_site, "Lax");
  EXPECT_EQ(c.path, "/");
  EXPECT_EQ(make_cookie(*config_, "n", "v", std::nullopt).max_age, std::nullopt);
}

TEST_F(Web, TokenShapeIs43UrlSafeBase64Characters) {
  EXPECT_TRUE(is_token_shaped(kToken));
  EXPECT_TRUE(is_token_shaped(std::string(41, 'a') + "-_"));
  EXPECT_FALSE(is_token_shaped(std::string(42, 'A')));
  EXPECT_FALSE(is_token_shaped(std::string(44, 'A')));
  EXPECT_FALSE(is_token_shaped(std::string(42, 'A') + "="));
  EXPECT_FALSE(is_token_shaped(std::string(42, 'A') + ";"));
}

TEST_F(Web, SessionCookieIsReadOnlyWhenTokenShaped) {
  Request good({{"HTTP_COOKIE", "other=x; __Host-oauth_session=" + kToken}});
  EXPECT_EQ(session_cookie(good, *config_), kToken);
  Request bad({{"HTTP_COOKIE", "__Host-oauth_session=short"}});
  EXPECT_EQ(session_cookie(bad, *config_), std::nullopt);
  Request none({});
  EXPECT_EQ(session_cookie(none, *config_), std::nullopt);
}

TEST_F(Web, ReadyProviderOfAPlainTypeNeedsNoDiscovery) {
  Context ctx = context();
  auto p = ready_provider(config_->providers.at(0), ctx);
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->display_name, "GitHub");
  EXPECT_TRUE(http_.requests.empty());
}
