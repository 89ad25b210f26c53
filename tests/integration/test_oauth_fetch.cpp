// oauth-fetch (src/oauth-fetch.cpp, lib/oauth/token_client.cpp) as its users run it: the
// built program against the dev provider's client-credentials grant and /api, with a
// real redis-server. The emulator counts token requests (client_token), API calls
// (resource) and API calls made with an expired token (resource_expired_token).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "browser.hpp"
#include "stack.hpp"
#include "test_util.hpp"

extern char** environ;

using namespace std::chrono_literals;
using testutil::Browser;
using testutil::Process;
using testutil::RedisServer;
using testutil::TempDir;

namespace {

using Clock = std::chrono::steady_clock;

const char* const kSecret = "Zq8-svc-secret-9vX";
const char* const kServerSecret = "0123456789abcdef0123456789abcdef-fetch-secret";

struct Outcome {
  int status = -1; // exit status, -signal, or -1000 when it had to be killed
  std::string out, err;
};

// A started oauth-fetch whose stdout and stderr go to files.
struct Spawned {
  pid_t pid = -1;
  std::string out, err;
};

Spawned spawn_fetch(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  std::vector<std::string> argv = {testutil::bin_dir() + "/oauth-fetch"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (auto& a : argv)
    cargs.push_back(a.data());
  cargs.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  Spawned s{-1, out, err};
  int rc = posix_spawn(&s.pid, cargs[0], &fa, nullptr, cargs.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) s.pid = -1;
  return s;
}

Outcome wait_fetch(const Spawned& s, Clock::time_point deadline) {
  Outcome o;
  if (s.pid <= 0) return o;
  int st = 0;
  for (;;) {
    pid_t r = waitpid(s.pid, &st, WNOHANG);
    if (r == s.pid) break;
    if (Clock::now() >= deadline) {
      kill(s.pid, SIGKILL);
      waitpid(s.pid, &st, 0);
      o.status = -1000;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  if (o.status != -1000) o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  o.out = testutil::read_file(s.out);
  o.err = testutil::read_file(s.err);
  return o;
}

int stat_of(const std::string& stats, const std::string& name) {
  std::smatch m;
  if (std::regex_search(stats, m, std::regex("\"" + name + "\"\\s*:\\s*(\\d+)"))) return std::stoi(m[1]);
  return -1;
}

// The dev provider with one client-credentials client, svc.
class Provider {
public:
  Provider(const TempDir& dir, std::vector<std::string> extra = {}) : port_(testutil::free_port()) {
    std::vector<std::string> cmd = {
        "/usr/bin/python3", testutil::source_dir() + "/tests/dev_provider/dev_provider.py",
        "--port",           std::to_string(port_),
        "--client",         std::string("svc:") + kSecret + ":http://127.0.0.1/unused"};
    cmd.insert(cmd.end(), extra.begin(), extra.end());
    log_ = dir.file("provider-" + std::to_string(port_) + ".log");
    proc_ = Process(cmd, {}, log_);
    if (!testutil::wait_until([&] { return testutil::port_open(port_); }))
      throw std::runtime_error("dev provider did not start: " + testutil::read_file(log_));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string call(const std::string& method, const std::string& path) {
    Browser b;
    return b.request(method, url() + path).body;
  }
  std::string stats() { return call("GET", "/_dev/stats"); }
  int count(const std::string& name) { return stat_of(stats(), name); }

private:
  int port_;
  std::string log_;
  Process proc_;
};

class OauthFetch : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    redis_ = new RedisServer();
    provider_ = new Provider(*dir_);
    dir_->write("secret", kServerSecret);
  }
  static void TearDownTestSuite() {
    keep_for_leak_scan();
    delete provider_;
    delete redis_;
    delete dir_;
  }
  void SetUp() override {
    provider_->call("POST", "/_dev/reset");
    redis_->cli({"FLUSHALL"});
  }

  // Everything oauth-fetch wrote on stderr, and the secrets it had, for the suite's
  // leak scan (tests/integration/leak_scan.cpp).
  static void keep_for_leak_scan() {
    std::string dir = testutil::leak_scan_dir();
    mkdir(dir.c_str(), 0700);
    std::ofstream logs(dir + "/logs.txt", std::ios::app);
    logs << "==== " << dir_->path() << " (oauth-fetch)\n";
    if (DIR* d = opendir(dir_->path().c_str())) {
      while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name.find("err-") != std::string::npos) logs << testutil::read_file(dir_->file(name));
      }
      closedir(d);
    }
    std::ofstream(dir + "/secrets.txt", std::ios::app) << kSecret << "\n" << kServerSecret << "\n";
  }

  // A config with [client api] against `provider` (the suite's by default).
  std::string config(const std::string& client_extra = "", const Provider* provider = nullptr,
                     const std::string& http = "[http]\nconnect_timeout_ms = 2000\ntimeout_ms = 10000\n") {
    const Provider& p = provider ? *provider : *provider_;
    std::string text = "[server]\npublic_url = http://127.0.0.1:8080\nsecret_file = secret\n"
                       "[redis]\nurl = " +
                       redis_->url() + "\n" + http + "[client api]\ntoken_url = " + p.url() +
                       "/oauth2/token\nclient_id = svc\nclient_secret = " + kSecret +
                       "\nscope = read write\n" + client_extra;
    return dir_->write("fetch-" + std::to_string(++configs_) + ".conf", text);
  }

  Outcome fetch(const std::vector<std::string>& args) {
    std::string n = std::to_string(++runs_);
    auto s = spawn_fetch(args, dir_->file("out-" + n), dir_->file("err-" + n));
    return wait_fetch(s, Clock::now() + 30s);
  }
  Outcome fetch(const std::string& conf, const std::string& path, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--config", conf, "--client", "api"};
    args.insert(args.end(), more.begin(), more.end());
    args.push_back(provider_->url() + path);
    return fetch(args);
  }

  static TempDir* dir_;
  static RedisServer* redis_;
  static Provider* provider_;
  int configs_ = 0, runs_ = 0;
};

TempDir* OauthFetch::dir_ = nullptr;
RedisServer* OauthFetch::redis_ = nullptr;
Provider* OauthFetch::provider_ = nullptr;

// 8 hosts x 50 calls, started at once while the token endpoint takes 5 s to answer
// (longer than the lock's first lease: its owner's heartbeat keeps it): one token
// request, every call answered.
TEST_F(OauthFetch, FourHundredProcessesAtOnceAskForOneToken) {
  std::string conf = config();
  provider_->call("POST", "/_dev/fault?endpoint=token&mode=slow&ms=5000&count=0");
  const int kProcesses = 400;
  std::vector<Spawned> started;
  started.reserve(kProcesses);
  auto start = Clock::now();
  for (int i = 0; i < kProcesses; ++i) {
    std::string n = std::to_string(i);
    started.push_back(
        spawn_fetch({"--config", conf, "--client", "api", provider_->url() + "/api/resource/" + n},
                    dir_->file("many-out-" + n), dir_->file("many-err-" + n)));
    ASSERT_GT(started.back().pid, 0) << "spawn " << i;
  }
  auto spawned = Clock::now() - start;
  // All 400 are running while the one token request is still unanswered.
  std::string during = provider_->stats();
  auto looked = Clock::now() - start;
  std::vector<Outcome> outcomes;
  for (auto& s : started)
    outcomes.push_back(wait_fetch(s, start + 120s));
  auto took = Clock::now() - start;
  provider_->call("DELETE", "/_dev/fault");

  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::cout << "[ timing ] " << kProcesses << " processes: spawned in " << ms(spawned) << " ms, all done in "
            << ms(took) << " ms\n";
  if (looked < 4500ms) {
    EXPECT_EQ(stat_of(during, "resource"), 0) << "the token was still being asked for when all had started";
  }
  int ok = 0, reported = 0;
  for (int i = 0; i < kProcesses; ++i) {
    const Outcome& o = outcomes[i];
    bool answered = o.status == 0 && o.err.empty() &&
                    o.out.find("\"path\": \"/api/resource/" + std::to_string(i) + "\"") != std::string::npos;
    ok += answered;
    if (!answered && ++reported <= 5) // the first few, not 400
      ADD_FAILURE() << "process " << i << " exited " << o.status << ": " << o.err << o.out;
  }
  EXPECT_EQ(ok, kProcesses);
  EXPECT_EQ(provider_->count("client_token"), 1);
  EXPECT_EQ(provider_->count("resource"), kProcesses);
  EXPECT_EQ(provider_->count("resource_expired_token"), 0);
  // No bound on `took`: a process stuck waiting for the lock is killed at the deadline
  // and counts as not answered; speed is for make bench, not for a shared machine.
}

// Tokens living 3 s are renewed when less than 300 ms is left: four processes calling
// in a loop for 4.5 s see exactly one renewal and never send an expired token.
TEST_F(OauthFetch, ExpiringTokenIsRenewedOnceAndNeverSentExpired) {
  Provider short_lived(*dir_, {"--token-ttl", "3"});
  std::string conf = config("", &short_lived);
  auto stop_at = Clock::now() + 4500ms;
  std::vector<std::thread> loops;
  std::vector<int> calls(4, 0), failures(4, 0);
  std::vector<std::string> errors(4);
  for (int t = 0; t < 4; ++t) {
    loops.emplace_back([&, t] {
      for (int i = 0; Clock::now() < stop_at; ++i) {
        std::string n = std::to_string(t) + "-" + std::to_string(i);
        auto s = spawn_fetch({"--config", conf, short_lived.url() + "/api/resource"},
                             dir_->file("exp-out-" + n), dir_->file("exp-err-" + n));
        Outcome o = wait_fetch(s, Clock::now() + 10s);
        ++calls[t];
        if (o.status != 0) {
          ++failures[t];
          errors[t] = o.err;
        }
      }
    });
  }
  for (auto& l : loops)
    l.join();
  int total = 0;
  for (int t = 0; t < 4; ++t) {
    total += calls[t];
    EXPECT_EQ(failures[t], 0) << errors[t];
  }
  std::cout << "[ timing ] " << total << " calls in 4.5 s\n";
  EXPECT_GT(total, 20) << "calls before and after the renewal";
  EXPECT_EQ(short_lived.count("client_token"), 2) << "the first token and one renewal";
  EXPECT_EQ(short_lived.count("resource"), total);
  EXPECT_EQ(short_lived.count("resource_expired_token"), 0);
}

TEST_F(OauthFetch, ResourceRefusalGetsOneNewTokenAndOneRetry) {
  std::string conf = config();
  ASSERT_EQ(fetch(conf, "/api/resource").status, 0);
  provider_->call("POST", "/_dev/fault?endpoint=resource&mode=invalid_token&count=1");
  Outcome o = fetch(conf, "/api/resource/again");
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("/api/resource/again"), std::string::npos) << o.out;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(provider_->count("client_token"), 2);
  EXPECT_EQ(provider_->count("resource"), 3);
  // The new token is the shared one now.
  ASSERT_EQ(fetch(conf, "/api/resource").status, 0);
  EXPECT_EQ(provider_->count("client_token"), 2);
}

TEST_F(OauthFetch, VerboseLogsSayWhatHappenedButNoSecret) {
  std::string conf = config();
  provider_->call("POST", "/_dev/fault?endpoint=resource&mode=invalid_token&count=1");
  Outcome o = fetch(conf, "/api/resource?key=abc", {"-v"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.err.find("event=client_token_obtained client=api lifetime_s=3600"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("event=client_token_refused client=api"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("key=abc"), std::string::npos) << "URLs logged without their query: " << o.err;
  provider_->call("POST", "/_dev/fault?endpoint=token&mode=500");
  redis_->cli({"FLUSHALL"});
  o = fetch(conf, "/api/resource", {"-v"});
  EXPECT_EQ(o.status, 67);
  EXPECT_NE(o.err.find("event=client_token_failed client=api"), std::string::npos) << o.err;
  for (const std::string& secret : {std::string(kSecret), std::string("Bearer "), std::string(kServerSecret)})
    EXPECT_EQ(o.err.find(secret), std::string::npos);
}

TEST_F(OauthFetch, SecondRefusalIsExit22AfterOneRetryOnly) {
  std::string conf = config();
  provider_->call("POST", "/_dev/fault?endpoint=resource&mode=invalid_token&count=2");
  Outcome o = fetch(conf, "/api/resource");
  EXPECT_EQ(o.status, 22);
  EXPECT_NE(o.out.find("invalid_token"), std::string::npos) << "the 401's body is printed: " << o.out;
  EXPECT_NE(o.err.find("HTTP 401"), std::string::npos) << o.err;
  EXPECT_EQ(provider_->count("client_token"), 2);
  EXPECT_EQ(provider_->count("resource"), 2);
}

TEST_F(OauthFetch, TokenExpiredEarlyAtTheServerIsReplaced) {
  std::string conf = config();
  ASSERT_EQ(fetch(conf, "/api/resource").status, 0);
  provider_->call("POST", "/_dev/expire?kind=access");
  Outcome o = fetch(conf, "/api/resource");
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(provider_->count("client_token"), 2);
  EXPECT_EQ(provider_->count("resource"), 3);
  EXPECT_EQ(provider_->count("resource_expired_token"), 1) << "the one the server ended early";
}

TEST_F(OauthFetch, TokenEndpointErrorMakesNoResourceRequest) {
  provider_->call("POST", "/_dev/fault?endpoint=token&mode=500");
  Outcome o = fetch(config(), "/api/resource");
  EXPECT_EQ(o.status, 67);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "oauth-fetch: [client api] token endpoint answered HTTP 500\n");
  EXPECT_EQ(provider_->count("resource"), 0);

  // A refusal shows the server's own words, never the secret.
  std::string text = testutil::read_file(config());
  std::string wrong = dir_->write(
      "wrong.conf", text.replace(text.find(kSecret), std::string(kSecret).size(), "not-the-Secret-42"));
  o = fetch(wrong, "/api/resource");
  EXPECT_EQ(o.status, 67);
  EXPECT_NE(o.err.find("[client api] token endpoint refused: invalid_client"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("not-the-Secret-42"), std::string::npos);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << "one line";
  EXPECT_EQ(provider_->count("resource"), 0);
  EXPECT_EQ(provider_->count("client_token"), 2);
}

TEST_F(OauthFetch, NotFoundExits22WithTheBodyPrinted) {
  Outcome o = fetch(config(), "/api/missing");
  EXPECT_EQ(o.status, 22);
  EXPECT_EQ(o.out, R"({"error": "not_found", "path": "/api/missing"})");
  EXPECT_NE(o.err.find("HTTP 404 Not Found from " + provider_->url() + "/api/missing"), std::string::npos)
      << o.err;
}

TEST_F(OauthFetch, IncludePrintsTheHeadersButNeverTheToken) {
  // The emulator echoes the request's headers, Authorization included, like httpbin.
  Outcome o = fetch(config(), "/api/resource?x=1", {"-i"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out.rfind("HTTP 200 OK\r\n", 0), 0u) << o.out;
  EXPECT_NE(o.out.find("content-type: application/json"), std::string::npos);
  EXPECT_NE(o.out.find("\r\n\r\n{"), std::string::npos);
  EXPECT_NE(o.out.find(R"("authorization": "Bearer [redacted]")"), std::string::npos) << o.out;
  EXPECT_FALSE(std::regex_search(o.out, std::regex("Bearer [A-Za-z0-9_-]{16}"))) << o.out;
}

TEST_F(OauthFetch, MethodBodyAndHeadersReachTheResource) {
  Outcome o =
      fetch(config(), "/api/resource/items",
            {"-X", "PUT", "-H", "Content-Type: application/json", "-H", "X-Trace: abc", "-d", R"({"n":1})"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find(R"("method": "PUT")"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(R"("body": "{\"n\":1}")"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(R"("content-type": "application/json")"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(R"("x-trace": "abc")"), std::string::npos) << o.out;

  std::string body_file = dir_->write("body.txt", "a=1&b=2");
  o = fetch(config(), "/api/resource", {"-d", "@" + body_file});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find(R"("method": "POST")"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(R"("body": "a=1&b=2")"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(R"("content-type": "application/x-www-form-urlencoded")"), std::string::npos) << o.out;
  EXPECT_EQ(provider_->count("client_token"), 1);
}

TEST_F(OauthFetch, TokenRequestFollowsAuthMethodAndScope) {
  ASSERT_EQ(fetch(config(), "/api/resource").status, 0);
  std::string stats = provider_->stats();
  EXPECT_NE(stats.find(R"("authorization": "Basic )"), std::string::npos) << "client_secret_basic by default";
  EXPECT_NE(stats.find(R"("grant_type": "client_credentials")"), std::string::npos);
  EXPECT_NE(stats.find(R"("scope": "read write")"), std::string::npos);

  redis_->cli({"FLUSHALL"}); // the same client, so the same shared token otherwise
  Outcome o = fetch(config("auth_method = client_secret_post\n"), "/api/resource");
  ASSERT_EQ(o.status, 0) << o.err;
  stats = provider_->stats();
  EXPECT_EQ(stats.find(R"("authorization": "Basic )"), std::string::npos);
  EXPECT_NE(stats.find(R"("client_id": "svc")"), std::string::npos) << stats;
  EXPECT_NE(o.out.find(R"("scope": "read write")"), std::string::npos) << "granted scope: " << o.out;
}

TEST_F(OauthFetch, TokenIsSealedInRedisWithItsLifetime) {
  ASSERT_EQ(fetch(config(), "/api/resource").status, 0);
  std::string dump = redis_->dump_all();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dump, m, std::regex("oauth:client_token:[A-Za-z0-9_-]+ (\\d+) "))) << dump;
  long ttl = std::stol(m[1]);
  EXPECT_GT(ttl, 3500);
  EXPECT_LE(ttl, 3600);
  EXPECT_EQ(dump.find("access_token"), std::string::npos) << "sealed";
  EXPECT_EQ(dump.find("lock:"), std::string::npos) << "lock released";
}

TEST_F(OauthFetch, MemoryCacheAsksOncePerProcess) {
  std::string conf = config("cache = memory\n");
  ASSERT_EQ(fetch(conf, "/api/resource").status, 0);
  ASSERT_EQ(fetch(conf, "/api/resource").status, 0);
  EXPECT_EQ(provider_->count("client_token"), 2);
  EXPECT_EQ(redis_->cli({"DBSIZE"}), "0");
}

TEST_F(OauthFetch, FailuresExitWithOneLineSaying) {
  std::string conf = config();
  Outcome o = fetch({"--config", conf, "http://127.0.0.1:" + std::to_string(testutil::free_port()) + "/x"});
  EXPECT_EQ(o.status, 7) << "nothing listens: " << o.err;
  EXPECT_NE(o.err.find("Couldn't connect"), std::string::npos) << o.err;
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);

  o = fetch({"--config", conf, "http://api.example.com/x"});
  EXPECT_EQ(o.status, 3);
  EXPECT_NE(o.err.find("use https://"), std::string::npos) << o.err;
  o = fetch({"--config", conf, "not a url"});
  EXPECT_EQ(o.status, 3);
  o = fetch({"--config", conf, "--client", "nope", provider_->url() + "/api/resource"});
  EXPECT_EQ(o.status, 1);
  EXPECT_NE(o.err.find("no [client nope] section"), std::string::npos) << o.err;
  o = fetch({"--config", conf});
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("no URL given"), std::string::npos) << o.err;
  o = fetch({"--config", conf, "-H", "Authorization: Bearer mine", provider_->url() + "/api/resource"});
  EXPECT_EQ(o.status, 2);
  o = fetch({"--help"});
  EXPECT_EQ(o.status, 0);
  EXPECT_NE(o.out.find("Exit status:"), std::string::npos);
  o = fetch({"--version"});
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.out.rfind("oauth-fetch ", 0), 0u);
  EXPECT_EQ(provider_->count("client_token"), 1) << "only the first call got as far as asking for a token";
}

TEST_F(OauthFetch, RedisDownIsExit67) {
  std::string conf = dir_->write(
      "noredis.conf",
      std::regex_replace(testutil::read_file(config()), std::regex("url = redis://[^\n]+"),
                         "url = redis://127.0.0.1:" + std::to_string(testutil::free_port()) + "/0"));
  Outcome o = fetch(conf, "/api/resource");
  EXPECT_EQ(o.status, 67);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  EXPECT_EQ(provider_->count("client_token"), 0);
  EXPECT_EQ(provider_->count("resource"), 0);
}

// allow_urls (issue 18 item 9): a URL that only looks like an allowed prefix is
// refused before anything is sent, the token not even asked for.
TEST_F(OauthFetch, AllowUrlsRefusesLookalikesWithoutARequest) {
  std::string base = provider_->url();
  std::string conf = config("allow_urls = " + base + "/api/resource/ok\n");
  std::string other_port = "http://127.0.0.1:" + std::to_string(testutil::free_port());
  const std::vector<std::string> lookalikes = {
      base + "/api/resource/okay",                // not at a segment boundary
      base + "/api/resource/ok/../../_dev/stats", // out again once normalised
      base + "/api/resource/ok/%2e%2e/secret",    // out again for a server that decodes
      base + "/api/resource/ok%2fx",              // one segment to us, two to some servers
      base + "/api/resource",                     // above the prefix
      other_port + "/api/resource/ok",            // same host, another port
      "http://localhost" + base.substr(base.rfind(':')) + "/api/resource/ok", // another host name
      "http://127.0.0.1@127.0.0.2" + base.substr(base.rfind(':')) + "/api/resource/ok",
  };
  for (const std::string& url : lookalikes) {
    Outcome o = fetch({"--config", conf, "--client", "api", url});
    EXPECT_EQ(o.status, 3) << url << ": " << o.err;
    EXPECT_NE(o.err.find("not under allow_urls of [client api]"), std::string::npos) << url << ": " << o.err;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  }
  EXPECT_EQ(provider_->count("client_token"), 0);
  EXPECT_EQ(provider_->count("resource"), 0);

  Outcome o = fetch(conf, "/api/resource/ok/sub?x=1");
  EXPECT_EQ(o.status, 0) << o.err;
  o = fetch(conf, "/api/resource/ok");
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(provider_->count("resource"), 2);
}

} // namespace
