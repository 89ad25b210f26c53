// The reading of flags shared by every program (options.cpp): split_flag, flag_value,
// and options_argv dropping the words a CGI ISINDEX query adds. parse_options' values
// and errors are in test_serve.cpp (Options.*).
#include "options.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace oauthfcgi;

namespace {

// Sets the CGI environment for one test and restores it after.
class CgiEnv {
public:
  CgiEnv(const char* gateway, const char* query) {
    set("GATEWAY_INTERFACE", gateway);
    set("QUERY_STRING", query);
  }
  ~CgiEnv() {
    ::unsetenv("GATEWAY_INTERFACE");
    ::unsetenv("QUERY_STRING");
  }

private:
  static void set(const char* name, const char* value) {
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
};

std::vector<std::string> strings(const std::vector<const char*>& v) {
  return std::vector<std::string>(v.begin(), v.end());
}

} // namespace

TEST(SplitFlag, LongFlagsTakeEqualsShortFlagsTakeTheRest) {
  FlagWord a = split_flag("--config=/etc/x.conf");
  EXPECT_EQ(a.name, "--config");
  EXPECT_EQ(a.attached, "/etc/x.conf");
  FlagWord b = split_flag("--config");
  EXPECT_EQ(b.name, "--config");
  EXPECT_EQ(b.attached, std::nullopt);
  FlagWord c = split_flag("-XPOST");
  EXPECT_EQ(c.name, "-X");
  EXPECT_EQ(c.attached, "POST");
  FlagWord d = split_flag("-X");
  EXPECT_EQ(d.name, "-X");
  EXPECT_EQ(d.attached, std::nullopt);
  FlagWord e = split_flag("--empty=");
  EXPECT_EQ(e.attached, "");
  EXPECT_EQ(split_flag("word").name, "word");
}

TEST(FlagValue, AttachedElseTheNextWordWhichIsThenConsumed) {
  const char* argv[] = {"prog", "--threads", "4", "--listen"};
  int i = 1;
  EXPECT_EQ(flag_value(split_flag(argv[1]), i, 4, argv), "4");
  EXPECT_EQ(i, 2);
  i = 3;
  EXPECT_EQ(flag_value(split_flag(argv[3]), i, 4, argv), std::nullopt);
  EXPECT_EQ(i, 3);
  i = 1;
  EXPECT_EQ(flag_value(split_flag("--threads=8"), i, 4, argv), "8");
  EXPECT_EQ(i, 1);
}

TEST(ParseOptions, ThreadsOutOfRangeIsRefused) {
  const char* too_many[] = {"prog", "--threads", "257"};
  EXPECT_FALSE(parse_options(3, too_many).ok());
  const char* max[] = {"prog", "--threads=256"};
  auto ok = parse_options(2, max);
  ASSERT_TRUE(ok.ok()) << ok.error().reason;
  EXPECT_EQ(ok->threads, kMaxThreads);
}

TEST(OptionsArgv, IsIndexQueryWordsAreDroppedUnderCgi) {
  char prog[] = "prog", w1[] = "--help", w2[] = "x y";
  char* argv[] = {prog, w1, w2};
  CgiEnv env("CGI/1.1", "--help+x%20y");
  EXPECT_EQ(strings(options_argv(3, argv)), (std::vector<std::string>{"prog"}));
}

TEST(OptionsArgv, ArgumentsStayWithoutCgiOrWithAFormQuery) {
  char prog[] = "prog", w1[] = "--help";
  char* argv[] = {prog, w1};
  {
    CgiEnv env(nullptr, "--help");
    EXPECT_EQ(options_argv(2, argv).size(), 2u);
  }
  {
    CgiEnv env("CGI/1.1", "a=--help");
    EXPECT_EQ(options_argv(2, argv).size(), 2u);
  }
  {
    CgiEnv env("CGI/1.1", "--version");
    EXPECT_EQ(options_argv(2, argv).size(), 2u); // the words differ: kept
  }
}
