// The shipped example must name every key the parser knows, and no other.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "config_load.hpp"
#include "test_util.hpp"

using namespace oauthfcgi;

TEST(ConfExample, NamesExactlyTheKeysTheParserKnows) {
  std::ifstream in(testutil::source_dir() + "/conf/oauth-fcgi.conf.example");
  ASSERT_TRUE(in.good());
  std::set<std::string> in_example;
  std::string line, section;
  std::regex section_re(R"(^\[([a-z]+)( [A-Za-z0-9_-]+)?\]\s*$)");
  std::regex key_re(R"(^([a-z_]+)\s*=)");
  while (std::getline(in, line)) {
    // Commented-out keys document defaults: they count too.
    size_t start = line.find_first_not_of("#; \t");
    if (start == std::string::npos) continue;
    std::string body = line.substr(start);
    std::smatch m;
    if (std::regex_match(body, m, section_re))
      section = m[1];
    else if (std::regex_search(body, m, key_re))
      in_example.insert(section + "." + std::string(m[1]));
  }
  std::set<std::string> known(known_config_keys().begin(), known_config_keys().end());
  for (const auto& k : known)
    EXPECT_TRUE(in_example.count(k)) << k << " is missing from oauth-fcgi.conf.example";
  for (const auto& k : in_example)
    EXPECT_TRUE(known.count(k)) << k << " is in the example but the parser does not know it";
}

TEST(ConfExample, UncommentedExampleParsesOnceItsSecretsExist) {
  testutil::TempDir dir;
  std::string text = testutil::read_file(testutil::source_dir() + "/conf/oauth-fcgi.conf.example");
  std::string secret = dir.write("secret", std::string(40, 's'));
  std::string gh = dir.write("github.secret", "x");
  text = std::regex_replace(text, std::regex("/etc/oauth-fcgi/secret"), secret);
  text = std::regex_replace(text, std::regex("/etc/oauth-fcgi/github.secret"), gh);
  auto load = parse_config(text, "oauth-fcgi.conf.example", dir.path());
  for (auto& p : load.problems)
    ADD_FAILURE() << p.to_string();
  EXPECT_TRUE(load.ok());
}
