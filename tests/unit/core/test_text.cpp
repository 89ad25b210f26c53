// lib/text: the ASCII helpers — character classes, case, trimming, decimal
// numbers, excerpts, redaction and JSON escaping.
#include "text.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <string_view>
#include <utility>

using namespace oauthfcgi;

namespace {

TEST(CharacterClasses, AreAsciiOnly) {
  for (char c : std::string(" \t\n\v\f\r"))
    EXPECT_TRUE(is_ascii_space(c)) << int(c);
  EXPECT_FALSE(is_ascii_space('\0'));
  EXPECT_FALSE(is_ascii_space('x'));
  EXPECT_FALSE(is_ascii_space('\xa0')); // NBSP in Latin-1

  EXPECT_TRUE(is_ascii_digit('0'));
  EXPECT_TRUE(is_ascii_digit('9'));
  EXPECT_FALSE(is_ascii_digit('a'));
  EXPECT_FALSE(is_ascii_digit('\xb2')); // superscript two in Latin-1

  EXPECT_TRUE(is_ascii_alnum('a'));
  EXPECT_TRUE(is_ascii_alnum('Z'));
  EXPECT_TRUE(is_ascii_alnum('5'));
  EXPECT_FALSE(is_ascii_alnum('_'));
  EXPECT_FALSE(is_ascii_alnum('\xe9')); // é in Latin-1

  EXPECT_TRUE(is_ascii_alpha('a'));
  EXPECT_TRUE(is_ascii_alpha('Z'));
  EXPECT_FALSE(is_ascii_alpha('5'));
  EXPECT_FALSE(is_ascii_alpha('['));
  EXPECT_FALSE(is_ascii_alpha('\xe9'));
}

TEST(AsciiCase, LowersOnlyAsciiLetters) {
  EXPECT_EQ(ascii_tolower('A'), 'a');
  EXPECT_EQ(ascii_tolower('z'), 'z');
  EXPECT_EQ(ascii_tolower('@'), '@');
  EXPECT_EQ(ascii_tolower('\xc9'), '\xc9'); // É in Latin-1 stays
  EXPECT_EQ(ascii_lowercase("Content-TYPE: X\xc9"), "content-type: x\xc9");
  EXPECT_EQ(ascii_lowercase(""), "");
}

TEST(AsciiCase, UppersOnlyAsciiLetters) {
  EXPECT_EQ(ascii_toupper('a'), 'A');
  EXPECT_EQ(ascii_toupper('Z'), 'Z');
  // Neighbours of the letters, and \xe9 (é in Latin-1), stay.
  for (char c : std::string("-`{@[\xe9"))
    EXPECT_EQ(ascii_toupper(c), c) << int(c);
}

TEST(AsciiIequals, IgnoresCaseButNotLength) {
  EXPECT_TRUE(ascii_iequals("Content-Type", "content-type"));
  EXPECT_TRUE(ascii_iequals("", ""));
  EXPECT_FALSE(ascii_iequals("Content-Type", "Content-Typ"));
  EXPECT_FALSE(ascii_iequals("GET", "GeX"));
  EXPECT_FALSE(ascii_iequals("\xc9", "\xe9")); // no Latin-1 case folding
}

TEST(StartsEndsWith, CompareBytes) {
  EXPECT_TRUE(starts_with("__Host-x", "__Host-"));
  EXPECT_TRUE(starts_with("abc", ""));
  EXPECT_FALSE(starts_with("ab", "abc"));
  EXPECT_TRUE(ends_with("file.conf", ".conf"));
  EXPECT_FALSE(ends_with("f", ".conf"));
}

TEST(AsciiTrim, DropsWhitespaceAtBothEnds) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {" \t key = v \r\n", "key = v"}, {"\v\fx\f\v", "x"}, {"   ", ""}, {"", ""}, {"a b", "a b"}};
  for (auto [in, out] : cases)
    EXPECT_EQ(ascii_trim(in), out) << in;
}

TEST(AsciiTrim, TakesTheCharactersToDrop) {
  EXPECT_EQ(ascii_trim(" \tvalue\r\n", " \t"), "value\r\n");
  EXPECT_EQ(ascii_trim("//path//", "/"), "path");
}

TEST(ParseLong, TakesAnOptionalMinusAndDigits) {
  EXPECT_EQ(parse_long("0"), 0);
  EXPECT_EQ(parse_long("86400"), 86400);
  EXPECT_EQ(parse_long("-5"), -5);
  EXPECT_EQ(parse_long("007"), 7);
  EXPECT_EQ(parse_long(std::to_string(LONG_MAX)), LONG_MAX);
  EXPECT_EQ(parse_long(std::to_string(LONG_MIN)), LONG_MIN);
}

TEST(ParseLong, RefusesJunkPlusSignsSpacesAndOverflow) {
  for (const char* bad : {"", "-", "+5", " 5", "5 ", "1.5", "12abc", "0x10", "1e3", "--1",
                          "9223372036854775808", "-9223372036854775809", "99999999999999999999999"}) {
    EXPECT_FALSE(parse_long(bad).has_value()) << bad;
  }
}

TEST(ParseUint, TakesDigitsUpToTheLimit) {
  EXPECT_EQ(parse_uint("0"), 0u);
  EXPECT_EQ(parse_uint("6379"), 6379u);
  EXPECT_EQ(parse_uint("65535", 65535), 65535u);
  EXPECT_EQ(parse_uint(std::to_string(ULONG_MAX)), ULONG_MAX);
}

TEST(ParseUint, RefusesSignsJunkOverflowAndValuesAboveTheLimit) {
  for (const char* bad : {"", "-0", "-1", "+1", " 1", "1 ", "1.0", "12abc", "0x10", "18446744073709551616"}) {
    EXPECT_FALSE(parse_uint(bad).has_value()) << bad;
  }
  EXPECT_FALSE(parse_uint("65536", 65535).has_value());
  EXPECT_FALSE(parse_uint("1000001", 1000000).has_value());
}

TEST(PrintableExcerpt, CutsAndMasksNonPrintables) {
  EXPECT_EQ(printable_excerpt("bad_verification_code", 7), "bad_ver");
  EXPECT_EQ(printable_excerpt("a\nb\x01\x7f\xc3\xa9", 100), "a?b????");
  EXPECT_EQ(printable_excerpt("", 5), "");
}

TEST(RedactValues, ReplacesEveryOccurrenceAndSkipsEmptyValues) {
  EXPECT_EQ(redact_values("code=abc&again=abc", {"abc"}), "code=[redacted]&again=[redacted]");
  EXPECT_EQ(redact_values("token t1 and secret s2", {"t1", "", "s2"}),
            "token [redacted] and secret [redacted]");
  EXPECT_EQ(redact_values("nothing here", {""}), "nothing here");
  // A value inside the mark does not loop.
  EXPECT_EQ(redact_values("red", {"red"}), "[redacted]");
}

TEST(JsonEscape, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_escape("say \"hi\"\\"), "say \\\"hi\\\"\\\\");
  EXPECT_EQ(json_escape("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(json_escape(std::string("\x01\x1f\x7f", 3)), "\\u0001\\u001f\\u007f");
  EXPECT_EQ(json_escape("caf\xc3\xa9"), "caf\xc3\xa9"); // UTF-8 passes through
}

} // namespace
