// oauth-fetch's command line (fetch_flags.cpp): curl-like flags, their values, and
// the refusals that come before the usage.
#include "fetch_flags.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "test_util.hpp"

using namespace oauthfcgi;

namespace {

Result<FetchFlags> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "oauth-fetch");
  return parse_fetch_flags(static_cast<int>(args.size()), args.data());
}

std::string reason(const Result<FetchFlags>& r) {
  return r.ok() ? "<ok>" : r.error().reason;
}

} // namespace

TEST(FetchFlags, ValuesInEveryForm) {
  auto f = parse({"--config=/etc/o.conf", "--client", "api", "-XPUT", "-H", "X-A: 1", "--header=X-B:2", "-i",
                  "-v", "-s", "https://api.example/x"});
  ASSERT_TRUE(f.ok()) << f.error().reason;
  EXPECT_EQ(f->config, "/etc/o.conf");
  EXPECT_EQ(f->client, "api");
  EXPECT_EQ(f->method, "PUT");
  ASSERT_EQ(f->headers.size(), 2u);
  EXPECT_EQ(f->headers[0].first, "X-A");
  EXPECT_EQ(f->headers[0].second, "1");
  EXPECT_EQ(f->headers[1].first, "X-B");
  EXPECT_EQ(f->headers[1].second, "2");
  EXPECT_TRUE(f->include);
  EXPECT_TRUE(f->verbose);
  EXPECT_EQ(f->url, "https://api.example/x");
}

TEST(FetchFlags, DataIsJoinedWithAmpersandAndReadFromAFile) {
  testutil::TempDir dir;
  dir.write("body", "c=3");
  std::string at = "@" + dir.path() + "/body";
  auto f = parse({"-d", "a=1", "--data=b=2", "-d", at.c_str(), "https://x.example/"});
  ASSERT_TRUE(f.ok()) << f.error().reason;
  EXPECT_EQ(f->data, "a=1&b=2&c=3");
  auto missing = parse({"-d", "@/nonexistent/file", "https://x.example/"});
  EXPECT_NE(reason(missing).find("-d @/nonexistent/file"), std::string::npos) << reason(missing);
}

TEST(FetchFlags, RefusalsSayWhatIsWrong) {
  EXPECT_EQ(reason(parse({})), "no URL given");
  EXPECT_EQ(reason(parse({"https://a/", "https://b/"})), "one URL only (\"https://b/\" is a second)");
  EXPECT_EQ(reason(parse({"--bogus", "https://a/"})), "unknown option --bogus");
  EXPECT_EQ(reason(parse({"https://a/", "-H"})), "-H needs a value");
  EXPECT_EQ(reason(parse({"-i=yes", "https://a/"})), "-i takes no value");
  EXPECT_EQ(reason(parse({"-X", "GE T", "https://a/"})), "-X wants a method such as GET or POST");
  EXPECT_NE(reason(parse({"-H", "Authorization: Bearer x", "https://a/"})).find("sends the token itself"),
            std::string::npos);
  EXPECT_NE(reason(parse({"-H", "no colon", "https://a/"})).find("-H wants 'Name: value'"),
            std::string::npos);
  auto bad = parse({"--bogus"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::config);
}

TEST(FetchFlags, HelpAndVersionNeedNoUrlAndDoubleDashEndsFlags) {
  auto help = parse({"--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
  auto version = parse({"--version"});
  ASSERT_TRUE(version.ok());
  EXPECT_TRUE(version->version);
  auto dashed = parse({"--", "-weird-url"});
  ASSERT_TRUE(dashed.ok()) << dashed.error().reason;
  EXPECT_EQ(dashed->url, "-weird-url");
}

TEST(FetchFlags, UsageAndHelpNameEveryFlag) {
  std::string help = fetch_help_text();
  for (const char* flag : {"--config", "--client", "-X", "-H", "-d", "-i", "-v", "--version", "--help"}) {
    EXPECT_NE(std::string(kFetchUsage).find(flag), std::string::npos) << flag;
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}
