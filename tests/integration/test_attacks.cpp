// The attack suite (threat model of the README's Security section): an attacker with
// a browser who can send anything to any route and lure victims to crafted links, a
// provider and a Redis that misbehave. Each case asserts the status and that no
// session (or token) was written where none should be.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "browser.hpp"
#include "crypto.hpp"
#include "stack_suite.hpp"

using namespace testutil;

namespace {

class Attack : public testutil::StackSuite<Attack> {
protected:
  int sessions() { return count_keys("oauth:session:*"); }
  int count_keys(const std::string& pattern) {
    std::string keys = stack_->redis().cli({"--scan", "--pattern", pattern});
    return keys.empty() ? 0 : static_cast<int>(std::count(keys.begin(), keys.end(), '\n')) + 1;
  }
  // A started sign-in: the callback URL the provider would send the browser to.
  std::string callback_url(Browser& b, const std::string& provider = "github") {
    Page connect = b.get(base() + "/auth/connect/" + provider);
    Page authorize = b.get(connect.location());
    return authorize.location();
  }
  // No answer may set a session cookie, and Redis holds no more sessions than before.
  void expect_no_session(const Page& page, int sessions_before) {
    EXPECT_EQ(page.header("set-cookie").find("oauth_session="), std::string::npos) << page.status;
    EXPECT_EQ(sessions(), sessions_before);
  }
  Page login(Browser& b, const std::string& extra = "") { return stack_->login(b, "github", "", extra); }
  std::string provider_port() { return stack_->provider().substr(stack_->provider().rfind(':') + 1); }
  // Bytes Redis holds for every key and its value (MEMORY USAGE, summed): what requests
  // stored, whatever Redis's connections and one-off allocations take besides.
  long stored_bytes() {
    std::istringstream keys(stack_->redis().cli({"--scan"}));
    long total = 0;
    for (std::string key; std::getline(keys, key);)
      if (!key.empty()) total += std::stol(stack_->redis().cli({"MEMORY", "USAGE", key}));
    return total;
  }
  // A 5xx answer tells a stranger nothing of our infrastructure, and names its request id,
  // under which the programs' log has the detailed reason.
  void expect_no_infrastructure(const Page& page, const std::vector<std::string>& secrets) {
    std::string lower = page.body;
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const std::string& s : secrets)
      EXPECT_EQ(lower.find(s), std::string::npos) << "\"" << s << "\" in " << page.body;
    std::string id = request_id_in(page.body);
    ASSERT_FALSE(id.empty()) << page.body;
    EXPECT_NE(stack_->program_logs().find("req=" + id), std::string::npos) << id;
  }
};

} // namespace

// ---- state ------------------------------------------------------------------

TEST_F(Attack, ReplayedStateIs400) {
  Browser b;
  std::string callback = callback_url(b);
  ASSERT_EQ(b.get(callback).status, 302);
  int before = sessions();
  Page again = b.get(callback);
  EXPECT_EQ(again.status, 400);
  expect_no_session(again, before);
}

TEST_F(Attack, TwoConcurrentCallbacksWithOneStateHaveOneWinnerAndOneTokenRequest) {
  for (int round = 0; round < 5; ++round) {
    Browser b;
    std::string callback = callback_url(b);
    std::string bind = b.cookie("oauth_session_bind");
    int tokens = stack_->provider_count("token"), before = sessions();
    std::atomic<int> wins{0}, refusals{0};
    auto attempt = [&] {
      Browser tab;
      tab.set_cookie("127.0.0.1", "oauth_session_bind", bind);
      long status = tab.get(callback).status;
      (status == 302 ? wins : refusals)++;
    };
    std::thread one(attempt), two(attempt);
    one.join();
    two.join();
    EXPECT_EQ(wins.load(), 1);
    EXPECT_EQ(refusals.load(), 1);
    EXPECT_EQ(stack_->provider_count("token"), tokens + 1);
    EXPECT_EQ(sessions(), before + 1);
  }
}

TEST_F(Attack, ReusedCodeIsRefusedByTheProvider) {
  Browser b;
  int before = sessions();
  Page again = replay_code(b, "github");
  EXPECT_EQ(again.status, 502);
  expect_no_session(again, before + 1);
}

TEST_F(Attack, StateFromAnotherBrowserIs400) {
  Browser victim, attacker;
  std::string callback = callback_url(victim);
  int before = sessions();
  Page stolen = attacker.get(callback); // no binding cookie at all
  EXPECT_EQ(stolen.status, 400);
  expect_no_session(stolen, before);
  callback_url(attacker); // now with a binding cookie of the attacker's own
  Page swapped = attacker.get(callback);
  EXPECT_EQ(swapped.status, 400);
  expect_no_session(swapped, before);
  EXPECT_EQ(victim.get(callback).status, 302) << "another browser's tries spent nothing";
}

TEST_F(Attack, StateOfProviderAOnProviderBsCallbackIs400) {
  Browser b;
  std::string callback = callback_url(b, "github");
  std::string on_dev = base() + "/auth/callback/dev?" + callback.substr(callback.find('?') + 1);
  int before = sessions(), tokens = stack_->provider_count("token");
  Page p = b.get(on_dev);
  EXPECT_EQ(p.status, 400);
  expect_no_session(p, before);
  EXPECT_EQ(stack_->provider_count("token"), tokens);
}

TEST_F(Attack, ProviderErrorTextNeverReachesOurPage) {
  // Anyone can send a victim to our callback with an error and a description of their own.
  Browser b;
  for (const std::string& q :
       {std::string("error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
                    "Your+account+is+locked.+Call+555-0100&error_reason=Call+555-0100"),
        std::string("error=Call+555-0100+now%3Cb%3E&error_description=Call+555-0100"),
        std::string("error=server_error&error_description=Call+555-0100")}) {
    Page p = b.get(base() + "/auth/callback/github?" + q);
    EXPECT_GE(p.status, 400) << q;
    EXPECT_EQ(p.body.find("555-0100"), std::string::npos) << p.body;
    EXPECT_EQ(p.body.find("script"), std::string::npos) << p.body;
    EXPECT_EQ(p.body.find("locked"), std::string::npos) << p.body;
  }
}

TEST_F(Attack, ErrorWithAVictimsStateLeavesItToTheVictim) {
  Browser victim, attacker;
  std::string callback = callback_url(victim);
  std::string refused =
      base() + "/auth/callback/github?error=access_denied&state=" + query_value(callback, "state");
  EXPECT_EQ(attacker.get(refused).status, 403); // no binding cookie
  callback_url(attacker);                       // and with a binding cookie of its own
  EXPECT_EQ(attacker.get(refused).status, 403);
  EXPECT_EQ(victim.get(callback).status, 302) << "the victim's state was not spent";
}

TEST_F(Attack, MissingOrDuplicatedCodeOrStateIs400) {
  Browser b;
  std::string callback = callback_url(b);
  std::string code = query_value(callback, "code"), state = query_value(callback, "state");
  std::string cb = base() + "/auth/callback/github?";
  int before = sessions(), tokens = stack_->provider_count("token");
  for (const std::string& q :
       std::vector<std::string>{"state=" + state, "code=" + code, "code=" + code + "&code=x&state=" + state,
                                "code=" + code + "&state=" + state + "&state=" + state, std::string("")}) {
    Page p = b.get(cb + q);
    EXPECT_EQ(p.status, 400) << q;
    expect_no_session(p, before);
  }
  EXPECT_EQ(stack_->provider_count("token"), tokens);
}

TEST_F(Attack, ExpiredStateIs400) {
  Browser b;
  std::string callback = callback_url(b);
  std::string keys = stack_->redis().cli({"--scan", "--pattern", "oauth:state:*"});
  ASSERT_FALSE(keys.empty());
  std::istringstream lines(keys);
  for (std::string key; std::getline(lines, key);)
    stack_->redis().cli({"PEXPIRE", key, "1"});
  ASSERT_TRUE(testutil::wait_until([&] { return count_keys("oauth:state:*") == 0; }));
  int before = sessions();
  Page late = b.get(callback);
  EXPECT_EQ(late.status, 400);
  expect_no_session(late, before);
}

TEST_F(Attack, CrLfInParametersNeverReachesAHeader) {
  Browser b;
  for (const char* evil :
       {"%2Fok%0D%0ASet-Cookie:%20oauth_session=evil", "%0d%0aLocation:%20https://evil.example",
        "%2F%0AX-Injected:%201", "%2F%E5%98%8A%E5%98%8DX-Injected:1"}) {
    Page connect = b.get(base() + "/auth/connect/github?return_to=" + evil);
    EXPECT_EQ(connect.status, 302) << evil;
    EXPECT_EQ(connect.header("x-injected"), "") << evil;
    Page done = b.get(b.get(connect.location()).location());
    EXPECT_EQ(done.status, 302) << evil;
    EXPECT_EQ(done.header("x-injected"), "") << evil;
    EXPECT_EQ(done.location().find_first_of("\r\n"), std::string::npos) << evil;
    EXPECT_EQ(done.location().rfind(base() + "/", 0), 0u) << done.location();
    for (auto [name, value] : done.headers)
      EXPECT_EQ(value.find("oauth_session=evil"), std::string::npos) << name;
  }
  Page p = b.get(base() + "/auth/callback/github?code=a%0D%0AX-Injected:%201&state=b%0AX-Injected:1");
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.header("x-injected"), "");
}

TEST_F(Attack, EveryOpenRedirectPayloadStaysOnOurOrigin) {
  std::ifstream in(testutil::source_dir() + "/tests/data/open-redirect-payloads.txt");
  ASSERT_TRUE(in.good());
  std::string line;
  int n = 0;
  Browser b;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Page done = stack_->login(b, "github", "?return_to=" + testutil::escape(line));
    ASSERT_EQ(done.status, 302) << line;
    std::string to = done.location();
    ASSERT_EQ(to.rfind(base() + "/", 0), 0u) << line << " -> " << to;
    ASSERT_NE(to.substr(base().size(), 2), "//") << line << " -> " << to;
    ASSERT_EQ(to.find_first_of("\\\r\n\t"), std::string::npos) << line << " -> " << to;
    n++;
  }
  EXPECT_GE(n, 834);
}

// ---- cookies, sizes ------------------------------------------------------------

TEST_F(Attack, MalformedDuplicatedAndOversizedCookiesAreAbsentNever500) {
  Browser signed_in;
  ASSERT_EQ(login(signed_in).status, 302);
  std::string good = signed_in.cookie("oauth_session");
  for (const std::string& cookie : std::vector<std::string>{
           "oauth_session", "oauth_session=", "oauth_session=" + good + "; oauth_session=" + good,
           "oauth_session=" + good + "x", "oauth_session=\"" + good,
           "oauth_session=" + std::string(1500, 'A'), "oauth_session=" + good.substr(0, 42) + "\x01",
           "=; ;;; oauth_session ; =x", std::string(1900, ';')}) {
    Browser b;
    Page profile = b.get(base() + "/auth/profile", {"Cookie: " + cookie});
    EXPECT_EQ(profile.status, 401) << cookie.substr(0, 80);
    Page check = b.get(base() + "/private/x", {"Cookie: " + cookie});
    EXPECT_EQ(check.status, 302) << cookie.substr(0, 80);
  }
}

TEST_F(Attack, OversizedQueryCookiesAndHeadersAre414And431) {
  Browser b;
  int before = sessions(), states = count_keys("oauth:state:*");
  Page q = b.get(base() + "/auth/connect/github?return_to=%2F" + std::string(3000, 'a'));
  EXPECT_EQ(q.status, 414);
  EXPECT_EQ(b.get(base() + "/auth/profile", {"Cookie: a=" + std::string(3000, 'c')}).status, 431);
  std::vector<std::string> many;
  for (int i = 0; i < 40; ++i)
    many.push_back("X-Pad-" + std::to_string(i) + ": " + std::string(500, 'h'));
  EXPECT_EQ(b.get(base() + "/auth/profile", many).status, 431);
  EXPECT_EQ(count_keys("oauth:state:*"), states) << "no state for a refused connect";
  expect_no_session(q, before);
}

TEST_F(Attack, AnonymousConnectsCostRedisAtMostAKilobyteEach) {
  // Bytes of Redis per connect from a client that keeps no cookie (a new binding each
  // time): everything its connects stored, over how many there were.
  auto per_connect = [&](const std::string& return_to) {
    stack_->redis().cli({"FLUSHDB"});
    const int n = 50;
    for (int i = 0; i < n; ++i) {
      Browser anonymous;
      EXPECT_EQ(anonymous.get(base() + "/auth/connect/github?return_to=" + return_to).status, 302);
    }
    EXPECT_EQ(count_keys("oauth:state:*"), n);
    long bytes = stored_bytes() / n;
    stack_->redis().cli({"FLUSHDB"});
    return bytes;
  };
  // The largest return_to that is kept (512 bytes, all of it bytes >= 0x80, stored as
  // %XX), and the largest the query limit lets through (not kept: after_login instead).
  std::string kept = "/", dropped = "%2F";
  while (kept.size() + 6 <= 512)
    kept += "%C3%A9";
  while (dropped.size() + 6 < 1990)
    dropped += "%C3%A9";
  long kept_cost = per_connect(kept), dropped_cost = per_connect(dropped);
  std::cout << "[ measured ] bytes of Redis per anonymous connect: " << kept_cost << " with a " << kept.size()
            << "-byte return_to, " << dropped_cost << " with a " << dropped.size() << "-byte one\n";
  EXPECT_LE(kept_cost, 1000);
  EXPECT_LE(dropped_cost, 1000);
}

TEST_F(Attack, OneBrowserPastThePendingCapIs429WhileItsEarlierLoginsComplete) {
  Browser b;
  std::vector<std::string> callbacks;
  for (int i = 0; i < 10; ++i)
    callbacks.push_back(callback_url(b));
  int states = count_keys("oauth:state:*");
  Page refused = b.get(base() + "/auth/connect/github");
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.header("location"), "");
  EXPECT_EQ(count_keys("oauth:state:*"), states) << "no state written past the cap";
  for (const std::string& callback : callbacks)
    EXPECT_EQ(b.get(callback).status, 302);
  EXPECT_EQ(b.get(base() + "/auth/connect/github").status, 302) << "completed logins are no longer pending";
}

TEST_F(Attack, CookiesStayFarBelowNginxsFastcgiBuffer) {
  Browser b;
  Page connect = b.get(base() + "/auth/connect/github");
  Page done = b.get(b.get(connect.location()).location());
  ASSERT_EQ(done.status, 302);
  size_t headers = 0;
  for (auto& [name, value] : done.headers)
    headers += name.size() + value.size() + 4;
  EXPECT_LT(done.header("set-cookie").size(), 300u);
  EXPECT_LT(headers, 1024u) << "nginx's fastcgi_buffer_size is 4 KiB";
}

// ---- the provider misbehaves ---------------------------------------------------

TEST_F(Attack, ProviderHtml500EmptyAndInvalidJsonAre502WithoutASession) {
  for (const char* mode : {"html", "500", "empty", "badjson"}) {
    for (const char* endpoint : {"token", "user"}) {
      Browser b;
      int before = sessions();
      fault(endpoint, mode);
      Page p = login(b);
      EXPECT_EQ(p.status, 502) << endpoint << " " << mode;
      expect_no_session(p, before);
    }
  }
}

TEST_F(Attack, ProviderThatNeverAnswersIs504WithoutASession) {
  Browser b;
  int before = sessions();
  fault("token", "hang");
  Page p = login(b);
  EXPECT_EQ(p.status, 504);
  expect_no_session(p, before);
  EXPECT_NE(p.body.find("GitHub did not answer in time"), std::string::npos) << p.body;
  expect_no_infrastructure(p, {"127.0.0.1", provider_port(), "within"});
}

TEST_F(Attack, ProviderFailurePagesNameNoHostOrDetail) {
  for (const char* mode : {"html", "500", "badjson"}) {
    Browser b;
    fault("token", mode);
    Page p = login(b);
    EXPECT_EQ(p.status, 502) << mode;
    EXPECT_NE(p.body.find("GitHub"), std::string::npos) << p.body;
    expect_no_infrastructure(p, {"127.0.0.1", provider_port(), "json", "internal server error", "http"});
  }
}

// Providers of the test HTTP server: a 50 MB answer, a slow drip, a self-signed
// certificate. Their authorize step is skipped: the callback gets a made-up code.
class HostileProvider : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new testutil::TempDir();
    auto [code, out] = testutil::run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                                      dir_->file("key.pem"), "-out", dir_->file("cert.pem"), "-days", "1",
                                      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    ASSERT_EQ(code, 0) << out;
    http_port_ = testutil::free_port();
    tls_port_ = testutil::free_port();
    std::string server = testutil::source_dir() + "/tests/support/http_test_server.py";
    http_ = new testutil::Process({"/usr/bin/python3", server, "--port", std::to_string(http_port_)}, {},
                                  dir_->file("http.log"));
    tls_ = new testutil::Process({"/usr/bin/python3", server, "--port", std::to_string(tls_port_), "--tls",
                                  dir_->file("cert.pem"), dir_->file("key.pem")},
                                 {}, dir_->file("tls.log"));
    ASSERT_TRUE(testutil::wait_until(
        [] { return testutil::port_open(http_port_) && testutil::port_open(tls_port_); }));
    std::string h = "http://127.0.0.1:" + std::to_string(http_port_);
    std::string t = "https://127.0.0.1:" + std::to_string(tls_port_);
    auto section = [](const std::string& name, const std::string& token_url, const std::string& base) {
      return "[provider " + name +
             "]\ntype = oauth2\nclient_id = c\nclient_secret = s\nauthorize_url = " + base +
             "/echo\ntoken_url = " + token_url + "\nuserinfo_url = " + base + "/echo\n\n";
    };
    StackOptions o;
    o.extra_config = section("huge", h + "/big?bytes=52428800", h) +
                     section("drip", h + "/drip?bytes=200&interval_ms=100", h) +
                     section("tls", t + "/echo", t);
    stack_ = new Stack(o);
  }
  static void TearDownTestSuite() {
    delete stack_;
    delete http_;
    delete tls_;
    delete dir_;
  }
  Page callback(const std::string& provider) {
    Browser b;
    Page connect = b.get(stack_->base() + "/auth/connect/" + provider);
    return b.get(stack_->base() + "/auth/callback/" + provider +
                 "?code=x&state=" + query_value(connect.location(), "state"));
  }
  static inline testutil::TempDir* dir_ = nullptr;
  static inline testutil::Process *http_ = nullptr, *tls_ = nullptr;
  static inline Stack* stack_ = nullptr;
  static inline int http_port_ = 0, tls_port_ = 0;
};

TEST_F(HostileProvider, FiftyMegabyteAnswerIsRefusedAtTheCap) {
  Page p = callback("huge");
  EXPECT_EQ(p.status, 502) << p.body;
  EXPECT_EQ(p.header("set-cookie").find("oauth_session="), std::string::npos);
}

TEST_F(HostileProvider, SlowDripIs504) {
  Page p = callback("drip");
  EXPECT_EQ(p.status, 504) << p.body;
  EXPECT_EQ(p.header("set-cookie").find("oauth_session="), std::string::npos);
}

TEST_F(HostileProvider, SelfSignedCertificateIsRefusedNotRetriedWithoutVerification) {
  Page p = callback("tls");
  EXPECT_EQ(p.status, 502) << p.body;
  EXPECT_EQ(p.header("set-cookie").find("oauth_session="), std::string::npos);
  EXPECT_EQ(testutil::read_file(dir_->file("tls.log")).find("/echo"), std::string::npos)
      << "no request ever got through the handshake";
}

// ---- Redis and the programs misbehave -------------------------------------------

TEST_F(Attack, RedisDownIs503AndNothingHalfWritten) {
  Browser b;
  std::string callback = callback_url(b);
  stack_->redis().stop();
  EXPECT_EQ(b.get(base() + "/auth/connect/github").status, 503);
  Page p = b.get(callback);
  EXPECT_EQ(p.status, 503);
  EXPECT_EQ(p.header("set-cookie").find("oauth_session="), std::string::npos);
  stack_->redis().start();
}

TEST_F(Attack, RedisDownPagesAndJsonNameNoInfrastructure) {
  Browser b;
  ASSERT_EQ(login(b).status, 302);
  stack_->redis().stop();
  std::vector<std::string> infrastructure = {"127.0.0.1", std::to_string(stack_->redis().port()), "redis",
                                             "connection refused", "6379"};
  Page connect = b.get(base() + "/auth/connect/github");
  EXPECT_EQ(connect.status, 503);
  expect_no_infrastructure(connect, infrastructure);
  Page profile = b.get(base() + "/auth/profile");
  EXPECT_EQ(profile.status, 503);
  EXPECT_EQ(profile.header("content-type"), "application/json");
  expect_no_infrastructure(profile, infrastructure);
  stack_->redis().start();
}

TEST_F(Attack, RedisRestartedMidFlowLosesTheStateCleanly) {
  Browser b;
  std::string callback = callback_url(b);
  stack_->redis().stop();
  stack_->redis().start(); // no persistence: the state is gone
  Page p = b.get(callback);
  EXPECT_EQ(p.status, 400) << "an unknown state, not a 500";
  expect_no_session(p, 0);
  Browser fresh;
  EXPECT_EQ(login(fresh).status, 302) << "the programs reconnected on their own";
}

TEST_F(Attack, SigtermDuringACallbackFinishesItOrRefusesItCleanly) {
  Browser b;
  std::string callback = callback_url(b);
  stack_->provider_call("POST", "/_dev/fault?endpoint=token&mode=slow&ms=800");
  Page answer;
  std::thread request([&] { answer = b.get(callback); });
  ASSERT_TRUE(testutil::wait_until([&] { return stack_->provider_count("token") > 0; }));
  ::kill(stack_->program_pid("callback"), SIGTERM);
  request.join();
  if (answer.status == 302) {
    EXPECT_EQ(b.get(base() + "/auth/profile").status, 200) << "finished: the session is whole";
  } else {
    EXPECT_EQ(answer.header("set-cookie").find("oauth_session="), std::string::npos) << answer.status;
    EXPECT_EQ(sessions(), 0) << "refused: nothing written";
  }
}

// ---- what an attacker with a Redis dump learns -----------------------------------

TEST_F(Attack, RedisDumpHoldsNoCookieStateOrTokenInAnyEncoding) {
  Browser gh, fb;
  ASSERT_EQ(login(gh).status, 302);
  ASSERT_EQ(stack_->login(fb, "facebook").status, 302);
  Browser pending; // a sign-in in flight: its state is in Redis too
  std::string state = query_value(pending.get(base() + "/auth/connect/github").location(), "state");
  // Facebook's token, as the emulator saw it on /me.
  std::string stats = stack_->provider_call("GET", "/_dev/stats");
  auto bearer = stats.find("Bearer ", stats.find("\"last_me_request\""));
  ASSERT_NE(bearer, std::string::npos);
  std::string token = stats.substr(bearer + 7, stats.find('"', bearer) - bearer - 7);
  std::vector<std::string> secrets = {gh.cookie("oauth_session"), gh.cookie("oauth_session_bind"),
                                      fb.cookie("oauth_session"), state, token};
  std::string dump = stack_->redis().dump_all();
  ASSERT_GE(std::count(dump.begin(), dump.end(), '\n'), 3) << dump;
  for (const auto& s : secrets) {
    ASSERT_GE(s.size(), 16u);
    for (const std::string& form :
         {s, oauthfcgi::hex_encode(s), oauthfcgi::base64_encode(s), oauthfcgi::base64url_encode(s)})
      EXPECT_EQ(dump.find(form), std::string::npos) << "a secret of " << s.size() << " bytes is in Redis";
  }
  EXPECT_EQ(dump.find("EAA"), std::string::npos);
  EXPECT_EQ(dump.find("gho_"), std::string::npos);
  EXPECT_EQ(dump.find(" -1 "), std::string::npos) << "every key has a TTL:\n" << dump;
}
