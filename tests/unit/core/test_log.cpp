#include "log.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "test_util.hpp"

using namespace oauthfcgi;

namespace {
struct Captured {
  std::vector<std::string> lines;
  static void sink(void* ctx, std::string_view line) {
    static_cast<Captured*>(ctx)->lines.emplace_back(line);
  }
};
} // namespace

TEST(Log, TextLineCarriesProgramRequestIdEventAndFields) {
  Log log = Log("oauth-callback", LogLevel::info, LogFormat::text).with_request_id("abcd1234");
  std::string line =
      log.format_line(LogLevel::info, "token_exchange", {{"provider", "github"}, {"status", "200"}});
  EXPECT_NE(line.find(" info oauth-callback req=abcd1234 event=token_exchange provider=github status=200"),
            std::string::npos)
      << line;
}

TEST(Log, JsonLineIsOneObjectWithEscapedValues) {
  Log log("oauth-profile", LogLevel::info, LogFormat::json);
  std::string line = log.format_line(LogLevel::warn, "x", {{"reason", "a \"quoted\"\nline"}});
  EXPECT_EQ(line.front(), '{');
  EXPECT_EQ(line.back(), '}');
  EXPECT_NE(line.find("\"level\":\"warn\""), std::string::npos);
  EXPECT_NE(line.find("\"reason\":\"a \\\"quoted\\\"\\nline\""), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Log, SensitiveFieldsAreNeverWritten) {
  for (auto format : {LogFormat::text, LogFormat::json}) {
    Log log("p", LogLevel::debug, format);
    for (const char* name :
         {"access_token", "refresh_token", "id_token", "code", "state", "Cookie", "client_secret", "password",
          "Authorization", "code_verifier", "session", "nonce", "set_cookie"}) {
      std::string line = log.format_line(LogLevel::info, "e", {{name, "SUPERSECRETVALUE"}});
      EXPECT_EQ(line.find("SUPERSECRETVALUE"), std::string::npos) << name << ": " << line;
      EXPECT_NE(line.find("[redacted]"), std::string::npos);
    }
  }
}

TEST(Log, OrdinaryFieldsAreKept) {
  for (const char* name : {"provider", "status", "route", "duration_ms", "reason", "provider_error"})
    EXPECT_FALSE(is_sensitive_field(name)) << name;
}

TEST(Log, UrlFieldsLoseTheirQueryFragmentAndUserinfo) {
  EXPECT_EQ(redact_url("https://gh.example/login?code=abc&state=def"), "https://gh.example/login?[redacted]");
  EXPECT_EQ(redact_url("https://x/cb#access_token=t"), "https://x/cb#[redacted]");
  EXPECT_EQ(redact_url("redis://:pw@127.0.0.1:6379/0"), "redis://[redacted]@127.0.0.1:6379/0");
  EXPECT_EQ(redact_url("https://plain.example/path"), "https://plain.example/path");
  Log log("p", LogLevel::info, LogFormat::text);
  std::string line = log.format_line(LogLevel::info, "e",
                                     {{"token_url", "https://h/t?x=1"}, {"url", "https://h/?code=C0DE"}});
  EXPECT_EQ(line.find("C0DE"), std::string::npos) << line;
}

TEST(Log, ControlCharactersCannotForgeASecondLine) {
  Log log("p", LogLevel::info, LogFormat::text);
  std::string line = log.format_line(LogLevel::info, "e", {{"reason", "x\r\n2026-01-01 error forged"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
}

TEST(Log, LevelFiltersLowerEvents) {
  Captured cap;
  Log log("p", LogLevel::warn, LogFormat::text);
  log.set_sink(&Captured::sink, &cap);
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  ASSERT_EQ(cap.lines.size(), 2u);
  EXPECT_NE(cap.lines[0].find("event=w"), std::string::npos);
  EXPECT_NE(cap.lines[1].find("event=e"), std::string::npos);
}

TEST(Log, RequestIdsAreSixteenHexCharsAndUnique) {
  std::string a = new_request_id(), b = new_request_id();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(Log, RequestIdsOfOneProcessShareAPrefixAndCount) {
  std::string a = new_request_id(), b = new_request_id();
  EXPECT_EQ(a.substr(0, 8), b.substr(0, 8));
  EXPECT_EQ(std::stoull(b, nullptr, 16), std::stoull(a, nullptr, 16) + 1);
}

TEST(Log, RequestIdsAreUniqueAcrossThreads) {
  std::set<std::string> all;
  for (const auto& id : testutil::drawn_on_threads(4, 5000, [] { return new_request_id(); })) {
    EXPECT_EQ(id.size(), 16u);
    all.insert(id);
  }
  EXPECT_EQ(all.size(), 4u * 5000u);
}

TEST(Log, AForkedChildDrawsItsOwnRequestIdPrefix) {
  std::string parent = new_request_id();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string id = new_request_id();
    _exit(write(fds[1], id.data(), id.size()) == 16 ? 0 : 1);
  }
  close(fds[1]);
  char buf[32];
  ssize_t n = read(fds[0], buf, sizeof buf);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_EQ(n, 16);
  std::string child(buf, 16);
  // The parent's next id would be parent + 1; the child's must not be one of the parent's.
  EXPECT_NE(child.substr(0, 8), parent.substr(0, 8)) << child << " " << parent;
}
