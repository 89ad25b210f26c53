// Cookies (cookie.hpp): the Cookie header parsed, the Set-Cookie value serialised,
// the characters each may hold, and the shape our random values must have.
#include "cookie.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace oauthfcgi;

namespace {

TEST(ParseCookie, MalformedCookieIsRefused) {
  EXPECT_EQ(parse_cookie("s", "s"), std::nullopt);
  EXPECT_EQ(parse_cookie("s=a b", "s"), std::nullopt);
  EXPECT_EQ(parse_cookie("s=a,b", "s"), std::nullopt);
  EXPECT_EQ(parse_cookie("s=a\\b", "s"), std::nullopt);
  EXPECT_EQ(parse_cookie("s=\"abc", "s"), std::nullopt);
  EXPECT_EQ(parse_cookie(std::string("s=a\0b", 5), "s"), std::nullopt);
  // A malformed neighbour does not hide a good cookie.
  EXPECT_EQ(parse_cookie("garbage; ;=; s=ok; x=a b", "s"), "ok");
}

TEST(ParseCookie, CookieValueKeptRawAndQuotesRemoved) {
  EXPECT_EQ(parse_cookie("s=\"abc\"", "s"), "abc");
  EXPECT_EQ(parse_cookie("s=a%20b", "s"), "a%20b"); // never decoded
  EXPECT_EQ(parse_cookie("s=a=b==", "s"), "a=b==");
  EXPECT_EQ(parse_cookie("s=", "s"), "");
  EXPECT_EQ(parse_cookie("  s = v  ;", "s"), "v");
  EXPECT_EQ(parse_cookie("s=1", ""), std::nullopt);
}

TEST(CookieChars, OctetsAreRfc6265) {
  for (unsigned char c : std::string(" \t\",;\\\x7f"))
    EXPECT_FALSE(is_cookie_octet(c)) << int(c);
  EXPECT_FALSE(is_cookie_octet(0x00));
  EXPECT_FALSE(is_cookie_octet(0x80));
  for (unsigned char c : std::string("!#+-:<[]~aZ09=/"))
    EXPECT_TRUE(is_cookie_octet(c)) << c;
}

TEST(CookieChars, NamesAreRfc7230Tokens) {
  for (unsigned char c : std::string("()<>@,;:\\\"/[]?={} \t\x7f"))
    EXPECT_FALSE(is_cookie_name_char(c)) << int(c);
  EXPECT_FALSE(is_cookie_name_char(0x80));
  for (unsigned char c : std::string("aZ09-_.!#$%&'*+^`|~"))
    EXPECT_TRUE(is_cookie_name_char(c)) << c;
}

TEST(SetCookieValue, WritesEveryAttribute) {
  EXPECT_EQ(set_cookie_value({"s", "v", 60, true, true, "Lax", "/"}),
            "s=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax");
  EXPECT_EQ(set_cookie_value({"s", "v", std::nullopt, false, false, "", ""}), "s=v");
}

TEST(SetCookieValue, ExpiredCookieCarriesAPastExpires) {
  EXPECT_EQ(set_cookie_value({"s", "", 0, false, false, "", ""}),
            "s=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(set_cookie_value({"s", "", -5, false, false, "", ""}),
            "s=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(SetCookieValue, DropsWhatCouldAddAnAttribute) {
  EXPECT_EQ(set_cookie_value({"s;x", "v; Domain=evil", std::nullopt, false, false, "Lax; x", "/a;b"}),
            "sx=vDomain=evil; Path=/ab; SameSite=Laxx");
}

TEST(TokenShaped, Is43Base64urlChars) {
  EXPECT_TRUE(is_token_shaped(std::string(43, 'z')));
  EXPECT_FALSE(is_token_shaped(std::string(42, 'z') + "\xe9"));
  EXPECT_FALSE(is_token_shaped(""));
}

} // namespace
