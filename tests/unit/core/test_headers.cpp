// Header lists (headers.hpp): the case-insensitive lookup both directions use.
#include "headers.hpp"

#include <gtest/gtest.h>

using namespace oauthfcgi;

namespace {

TEST(FindHeader, IgnoresAsciiCaseOfTheName) {
  Headers h = {{"Content-Type", "text/html"}, {"location", "/x"}};
  ASSERT_NE(find_header(h, "content-type"), nullptr);
  EXPECT_EQ(*find_header(h, "content-type"), "text/html");
  ASSERT_NE(find_header(h, "LOCATION"), nullptr);
  EXPECT_EQ(*find_header(h, "LOCATION"), "/x");
}

TEST(FindHeader, FirstOfARepeatedNameWins) {
  Headers h = {{"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}};
  EXPECT_EQ(*find_header(h, "Set-Cookie"), "a=1");
}

TEST(FindHeader, MissingOrPrefixOnlyIsNull) {
  Headers h = {{"Content-Type", "text/html"}};
  EXPECT_EQ(find_header(h, "Content"), nullptr);
  EXPECT_EQ(find_header(h, "Content-Type2"), nullptr);
  EXPECT_EQ(find_header({}, "Content-Type"), nullptr);
}

} // namespace
