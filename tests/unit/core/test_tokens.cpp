// Token sets (tokens.cpp): scope lists in GitHub's and OAuth2's spellings, and what
// of a token the signed-in user may see.
#include "tokens.hpp"

#include <gtest/gtest.h>

#include "json.hpp"

using namespace oauthfcgi;

TEST(Tokens, JoinUsesSpacesAndRoundTripsASplit) {
  EXPECT_EQ(join_scopes({"read:user", "user:email"}), "read:user user:email");
  EXPECT_EQ(join_scopes({}), "");
  EXPECT_EQ(join_scopes(split_scopes("a,b c")), "a b c");
}

TEST(Tokens, InfoAtTheExpiryInstantIsNoLongerValid) {
  TokenSet t;
  t.expires_at = 2000;
  Json o = json_object();
  token_info_to(o.get(), t, 2000);
  EXPECT_EQ(json_print(o.get()), R"({"token":{"expires_at":2000,"valid":false,"scopes":[]}})");
}

TEST(Tokens, ScopesSplitOnCommasAndSpaces) {
  EXPECT_EQ(split_scopes("read:user,user:email"), (std::vector<std::string>{"read:user", "user:email"}));
  EXPECT_EQ(split_scopes(" a  b,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_scopes("").empty());
}

TEST(Tokens, InfoShowsExpiryValidityAndScopesButNoToken) {
  TokenSet t;
  t.access_token = "secret-token";
  t.refresh_token = "secret-refresh";
  t.scope = "email public_profile";
  t.expires_at = 2000;
  Json o = json_object();
  token_info_to(o.get(), t, 1000);
  EXPECT_EQ(json_print(o.get()),
            R"({"token":{"expires_at":2000,"valid":true,"scopes":["email","public_profile"]}})");
  Json late = json_object();
  token_info_to(late.get(), t, 3000);
  EXPECT_NE(json_print(late.get()).find("\"valid\":false"), std::string::npos);
  t.expires_at = 0;
  Json never = json_object();
  token_info_to(never.get(), t, 3000);
  EXPECT_NE(json_print(never.get()).find("\"expires_at\":null,\"valid\":true"), std::string::npos);
}
