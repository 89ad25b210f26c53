#include "return_to.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.hpp"

using namespace oauthfcgi;

TEST(ReturnTo, PlainLocalPathsAreKept) {
  EXPECT_EQ(safe_return_to("/"), "/");
  EXPECT_EQ(safe_return_to("/admin/page?x=1&y=2#top"), "/admin/page?x=1&y=2#top");
  EXPECT_EQ(safe_return_to("/a%20b"), "/a%20b");
}

TEST(ReturnTo, BytesOutsideTheUrlAlphabetAreEncoded) {
  EXPECT_EQ(safe_return_to("/caf\xc3\xa9"), "/caf%C3%A9");
  EXPECT_EQ(safe_return_to("/a b"), "/a%20b");
  EXPECT_EQ(safe_return_to("/\"<x>"), "/%22%3Cx%3E");
}

TEST(ReturnTo, AnythingNotALocalPathIsRefused) {
  for (const char* bad :
       {"", "//evil.com", "/\\evil.com", "https://evil.com", "evil.com", "javascript:alert(1)",
        "/%2f%2fevil.com", "/%5cevil.com", "/%252f%252fevil.com", "/%09/evil.com", "/\t/evil.com",
        "/a\r\nSet-Cookie: x=1", "/a%0d%0aSet-Cookie:%20x=1", "/a\\b", "\\\\evil.com", " /path", "/%00"}) {
    EXPECT_FALSE(safe_return_to(bad).has_value()) << bad;
  }
  EXPECT_FALSE(safe_return_to("/" + std::string(3000, 'a')).has_value());
}

// return_to is stored with each pending login: past 512 bytes once encoded, it is not kept.
TEST(ReturnTo, LongerThan512BytesEncodedIsRefused) {
  EXPECT_EQ(safe_return_to("/" + std::string(511, 'a'))->size(), 512u);
  EXPECT_FALSE(safe_return_to("/" + std::string(512, 'a')).has_value());
  std::string accents = "/";
  for (int i = 0; i < 100; ++i)
    accents += "\xc3\xa9"; // 201 bytes, 601 once encoded
  EXPECT_FALSE(safe_return_to(accents).has_value());
}

// Every payload of mod_auth_openidc's open-redirect list must be refused, or come
// back as a path that stays on our origin once put after public_url.
TEST(ReturnTo, OpenRedirectPayloadListNeverLeavesTheOrigin) {
  std::ifstream in(testutil::source_dir() + "/tests/data/open-redirect-payloads.txt");
  ASSERT_TRUE(in.good()) << "tests/data/open-redirect-payloads.txt is missing";
  std::string line;
  int count = 0, kept = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    count++;
    auto safe = safe_return_to(line);
    if (!safe) continue;
    kept++;
    const std::string& p = *safe;
    ASSERT_EQ(p[0], '/') << line;
    ASSERT_NE(p[1], '/') << line;
    ASSERT_NE(p[1], '\\') << line;
    ASSERT_EQ(p.find_first_of("\\\r\n\t"), std::string::npos) << line;
  }
  EXPECT_GE(count, 834); // the README counts 834; the file has one more without a final newline
  EXPECT_LT(kept, count);
}
