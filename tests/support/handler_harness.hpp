// What a handler needs to run in process, for unit tests of handlers and of the code they
// call: a Config parsed from text, the Keys derived from its secret, a MemoryStore, a scripted
// FakeHttp, a Log, a FakeClock (which the MemoryStore follows) and a FakeRandom, put together
// into a Context (HandlerTest); and the lines a Log writes, kept instead of going to stderr
// (LogLines).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config_load.hpp"
#include "crypto.hpp"
#include "fake_clock.hpp"
#include "fake_http.hpp"
#include "log.hpp"
#include "memory_store.hpp"
#include "serve.hpp"
#include "test_util.hpp"

namespace testutil {

// The lines a Log writes, in order.
class LogLines {
public:
  // Sends log's lines here from now on; this must outlive log's use.
  void capture(oauthfcgi::Log& log) {
    log.set_sink(
        [](void* self, std::string_view line) { static_cast<LogLines*>(self)->lines_.emplace_back(line); },
        this);
  }
  const std::vector<std::string>& lines() const { return lines_; }
  // Every line, each followed by a newline.
  std::string all() const {
    std::string s;
    for (const auto& l : lines_)
      s += l + "\n";
    return s;
  }
  void clear() { lines_.clear(); }

private:
  std::vector<std::string> lines_;
};

// A fixture whose tests run handlers (or the code under them) against a config of their own:
// SetUp calls load_config(text), then tests build a Context with context(). The log writes
// text lines under `program`, to stderr unless a test captures them with LogLines.
class HandlerTest : public ::testing::Test {
protected:
  explicit HandlerTest(std::string program = "test", oauthfcgi::LogLevel level = oauthfcgi::LogLevel::error)
      : log_(std::move(program), level, oauthfcgi::LogFormat::text) {
    store_.use_clock(clock_);
  }

  // Parses `text` as test.conf in dir_, next to a 32-byte file `secret` (for
  // `secret_file = secret`), and derives keys_ from it. A config with problems fails the
  // test; gtest then skips its body.
  void load_config(const std::string& text) {
    dir_.write("secret", std::string(32, 'S'));
    auto load = oauthfcgi::parse_config(text, "test.conf", dir_.path());
    ASSERT_TRUE(load.ok()) << (load.problems.empty() ? "" : load.problems[0].to_string());
    config_ = std::make_unique<oauthfcgi::Config>(std::move(load.config));
    keys_ = oauthfcgi::derive_keys(config_->server.secret);
  }

  // A Context on this fixture's config, keys, store, clock and random, with http_ and log_
  // unless others are given.
  oauthfcgi::Context context() { return context(http_, log_); }
  oauthfcgi::Context context(oauthfcgi::HttpClient& http) { return context(http, log_); }
  oauthfcgi::Context context(oauthfcgi::HttpClient& http, const oauthfcgi::Log& log) {
    return oauthfcgi::Context{*config_, keys_, store_, http, log, clock_, random_};
  }

  FakeClock clock_; // moves only when a test moves it; store_ follows it
  FakeRandom random_;
  TempDir dir_;
  std::unique_ptr<oauthfcgi::Config> config_;
  oauthfcgi::Keys keys_;
  MemoryStore store_;
  FakeHttp http_;
  oauthfcgi::Log log_;
};

} // namespace testutil
