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
