// `oauth-connect --check-config --config FILE`, the real binary, against the mistakes
// users make: each is one line "FILE:LINE: reason (fix)" and exit 1; warnings (Redis
// down, a secret file every user may read) still exit 0.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <sstream>

#include "test_util.hpp"

namespace {

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

// A config folder: a good secret, a client secret, and a config built from a base text
// with one line replaced, removed or added.
class CheckConfig : public ::testing::Test {
protected:
  void SetUp() override {
    dir_.write("secret", std::string(48, 's'));
    dir_.write("github.secret", "gh-secret\n");
    dir_.write("redis.password", "pw\n");
  }

  // The base config, line by line. Redis is a closed port unless redis_url is given.
  std::vector<std::string> base() const {
    return {"[server]",
            "public_url = https://www.example.com",
            "secret_file = secret",
            "",
            "[redis]",
            "url = " + redis_url_,
            "timeout_ms = 300",
            "",
            "[provider github]",
            "type = github",
            "client_id = Iv1.0123456789abcdef",
            "client_secret_file = github.secret"};
  }

  // Writes lines as the config; returns its path.
  std::string write(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines)
      text += l + "\n";
    return dir_.write("oauth-fcgi.conf", text);
  }
  // The base with the line starting with `key` replaced (or removed when replacement is empty).
  std::string write_with(const std::string& key, const std::string& replacement) {
    std::vector<std::string> lines = base();
    for (auto& l : lines)
      if (l.rfind(key, 0) == 0) l = replacement;
    return write(lines);
  }
  // 1-based line of the first line starting with `key` in the base.
  int line_of(const std::string& key) const {
    std::vector<std::string> lines = base();
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].rfind(key, 0) == 0) return static_cast<int>(i) + 1;
    return 0;
  }

  struct Outcome {
    int code = -1;
    std::string out;
    std::vector<std::string> lines_naming_the_file;
  };
  Outcome check(const std::string& path) {
    auto [code, out] =
        testutil::run({testutil::bin_dir() + "/oauth-connect", "--check-config", "--config", path});
    Outcome o{code, out, {}};
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);)
      if (l.rfind(path + ":", 0) == 0) o.lines_naming_the_file.push_back(l);
    return o;
  }

  // The mistake is reported as exactly one error line "FILE:LINE: ... text ... (fix)", exit 1.
  void expect_one_error(const std::string& path, int line, const std::string& text) {
    Outcome o = check(path);
    EXPECT_EQ(o.code, 1) << o.out;
    ASSERT_EQ(o.lines_naming_the_file.size(), 1u) << o.out;
    const std::string& l = o.lines_naming_the_file[0];
    std::string where = line > 0 ? path + ":" + std::to_string(line) + ": " : path + ": ";
    EXPECT_EQ(l.rfind(where, 0), 0u) << "want " << where << " in: " << l;
    EXPECT_TRUE(contains(l, text)) << "want \"" << text << "\" in: " << l;
    EXPECT_FALSE(contains(l, "warning:")) << l;
    EXPECT_TRUE(contains(l, " (") && l.back() == ')') << "the fix, in parentheses, ends the line: " << l;
    EXPECT_FALSE(contains(o.out, ": ok")) << o.out;
  }

  testutil::TempDir dir_;
  std::string redis_url_ = "redis://127.0.0.1:" + std::to_string(testutil::free_port()) + "/0";
};

} // namespace

TEST_F(CheckConfig, AGoodConfigWithRedisUpIsOkWithoutWarnings) {
  testutil::RedisServer redis;
  redis_url_ = redis.url();
  std::string path = write(base());
  Outcome o = check(path);
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_EQ(o.out, "oauth-connect: " + path + ": ok\n");
}

TEST_F(CheckConfig, RedisDownIsAWarningNotAnError) {
  std::string path = write(base());
  Outcome o = check(path);
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_TRUE(contains(o.out, "oauth-connect: " + path + ": ok\n")) << o.out;
  EXPECT_TRUE(contains(o.out, "oauth-connect: WARNING: Redis at 127.0.0.1:")) << o.out;
  EXPECT_TRUE(contains(o.out, "(start it, or correct [redis] url in " + path)) << o.out;
}

TEST_F(CheckConfig, UnknownKeyNamesTheLineAndTheLikelyKey) {
  std::string path = write_with("timeout_ms", "timout_ms = 300");
  expect_one_error(path, line_of("timeout_ms"),
                   "unknown key \"timout_ms\" in [redis] (did you mean \"timeout_ms\"? known keys: url,");
}

TEST_F(CheckConfig, UnknownSectionIsAnError) {
  std::string path = write_with("[redis]", "[reddis]");
  expect_one_error(path, line_of("[redis]"), "unknown section [reddis]");
}

TEST_F(CheckConfig, MissingSecretFileKeySaysHowToMakeOne) {
  std::string path = write_with("secret_file", "");
  expect_one_error(path, 1, "missing secret_file in [server] (create one: head -c 64 /dev/urandom >");
}

TEST_F(CheckConfig, SecretFileThatDoesNotExist) {
  std::string path = write_with("secret_file", "secret_file = /nonexistent/oauth-fcgi/secret");
  expect_one_error(path, line_of("secret_file"),
                   "cannot read secret_file \"/nonexistent/oauth-fcgi/secret\": No such file or directory");
}

TEST_F(CheckConfig, ShortSecretSaysItsSizeAndHowToMakeOne) {
  dir_.write("short", std::string(16, 'x'));
  std::string path = write_with("secret_file", "secret_file = short");
  expect_one_error(path, line_of("secret_file"), "holds 16 bytes; at least 32 random bytes are needed");
}

TEST_F(CheckConfig, UnreadableClientSecretFile) {
  std::string path = write_with("client_secret_file", "client_secret_file = missing.secret");
  expect_one_error(path, line_of("client_secret_file"),
                   "cannot read client_secret_file \"" + dir_.file("missing.secret") + "\"");
  // A folder where the file should be (root reads any file, so mode 000 would not show it).
  ASSERT_EQ(mkdir(dir_.file("folder.secret").c_str(), 0700), 0);
  path = write_with("client_secret_file", "client_secret_file = folder.secret");
  expect_one_error(path, line_of("client_secret_file"), "cannot read client_secret_file");
}

TEST_F(CheckConfig, PublicUrlThatIsNotAbsolute) {
  std::string path = write_with("public_url", "public_url = www.example.com");
  expect_one_error(path, line_of("public_url"), "public_url is not an absolute http:// or https:// URL");
}

TEST_F(CheckConfig, PublicUrlWithAPath) {
  std::string path = write_with("public_url", "public_url = https://www.example.com/app");
  expect_one_error(path, line_of("public_url"), "public_url has a path \"/app\"");
}

TEST_F(CheckConfig, HttpEndpointOnANonLoopbackHost) {
  std::vector<std::string> lines = base();
  lines.push_back("token_url = http://github.example.com/login/oauth/access_token");
  std::string path = write(lines);
  expect_one_error(path, static_cast<int>(lines.size()), "token_url must use https://");
}

TEST_F(CheckConfig, MissingClientId) {
  std::string path = write_with("client_id", "");
  expect_one_error(path, line_of("[provider github]"), "missing client_id in [provider github]");
}

TEST_F(CheckConfig, RedisPasswordBothInUrlAndFile) {
  std::vector<std::string> lines = base();
  lines[static_cast<size_t>(line_of("url =")) - 1] = "url = redis://:inline-pw@127.0.0.1:6379/0";
  lines.insert(lines.begin() + line_of("url ="), "password_file = redis.password");
  std::string path = write(lines);
  expect_one_error(path, line_of("url =") + 1, "password is given both in url and as password_file");
  EXPECT_FALSE(contains(check(path).out, "inline-pw")) << "a password never appears in a message";
}

TEST_F(CheckConfig, ClientSecretInlineAndAsFile) {
  std::vector<std::string> lines = base();
  lines.push_back("client_secret = also-inline");
  std::string path = write(lines);
  expect_one_error(path, static_cast<int>(lines.size()),
                   "client_secret is given both inline and as client_secret_file");
  EXPECT_FALSE(contains(check(path).out, "also-inline"));
}

TEST_F(CheckConfig, ASecretFileEveryUserMayReadIsAWarning) {
  ASSERT_EQ(chmod(dir_.file("secret").c_str(), 0644), 0);
  std::string path = write(base());
  Outcome o = check(path);
  EXPECT_EQ(o.code, 0) << o.out;
  ASSERT_EQ(o.lines_naming_the_file.size(), 1u) << o.out;
  EXPECT_EQ(o.lines_naming_the_file[0].rfind(
                path + ":" + std::to_string(line_of("secret_file")) + ": warning: ", 0),
            0u)
      << o.out;
  EXPECT_TRUE(contains(o.out, "is readable by every user of this machine (chmod 0640")) << o.out;
  EXPECT_TRUE(contains(o.out, ": ok")) << o.out;
}

TEST_F(CheckConfig, SeveralMistakesAreAllReportedOnePerLine) {
  std::vector<std::string> lines = base();
  lines[static_cast<size_t>(line_of("public_url")) - 1] = "public_url = example.com";
  lines[static_cast<size_t>(line_of("client_id")) - 1] = "client_idd = x";
  std::string path = write(lines);
  Outcome o = check(path);
  EXPECT_EQ(o.code, 1);
  // public_url, the unknown key, and the client_id that is then missing.
  EXPECT_EQ(o.lines_naming_the_file.size(), 3u) << o.out;
}

TEST_F(CheckConfig, MissingConfigFile) {
  Outcome o = check(dir_.file("nope.conf"));
  EXPECT_EQ(o.code, 1);
  ASSERT_EQ(o.lines_naming_the_file.size(), 1u) << o.out;
  EXPECT_TRUE(contains(o.out, "cannot read the config file: No such file or directory (give the right path"))
      << o.out;
}

// Issue 18 item 2: an old-style entry gets its rewrite, from --check-config as at start.
TEST_F(CheckConfig, UnqualifiedAccessEntrySaysHowToRewriteIt) {
  std::vector<std::string> lines = base();
  lines.insert(lines.begin() + 8, {"[access]", "allowed_users = alice", ""});
  std::string path = write(lines);
  expect_one_error(path, 10,
                   "allowed_users entry \"alice\" in [access] names no provider (write github:alice (or "
                   "another provider's name)");
}

TEST_F(CheckConfig, AllDigitLoginIsAWarningThatNamesTheIdForm) {
  std::vector<std::string> lines = base();
  lines.push_back("allowed_users = 1001 octocat");
  std::string path = write(lines);
  Outcome o = check(path);
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_TRUE(contains(o.out, path + ":13: warning: allowed_users entry \"1001\" matches a login named "
                                     "1001 (write id:1001 for the user id)"))
      << o.out;
  EXPECT_FALSE(contains(o.out, "octocat")) << o.out;
}

// Issue 18 item 9: a client whose token may go anywhere is worth a warning.
TEST_F(CheckConfig, ClientWithoutAllowUrlsIsAWarning) {
  std::vector<std::string> lines = base();
  for (const char* l : {"[client api]", "token_url = https://auth.example.com/token", "client_id = svc",
                        "client_secret_file = github.secret"})
    lines.push_back(l);
  std::string path = write(lines);
  Outcome o = check(path);
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_TRUE(contains(o.out, path + ":13: warning: [client api] has no allow_urls, so oauth-fetch sends its "
                                     "token to any URL it is given"))
      << o.out;
  lines.push_back("allow_urls = https://api.example.com/v1");
  path = write(lines);
  o = check(path);
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_FALSE(contains(o.out, "allow_urls")) << o.out;
}
