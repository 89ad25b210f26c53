// The client-credentials token client (token_client.cpp) against scripted servers, a
// MemoryStore standing in for Redis and a clock the tests move: the token request on
// the wire, when a token is renewed, retry-on-401, token-endpoint errors, and one
// renewal at a time among threads (memory cache) and among "processes" sharing a store
// (Redis cache), the others using its token or its error, bounded in time. The
// Redis cache's waits take no real time: their sleeps move the FakeClock; the
// memory cache's wait is a condition variable's, in real time.
#include "token_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "crypto.hpp"
#include "fake_clock.hpp"
#include "fake_http.hpp"
#include "memory_store.hpp"
#include "test_util.hpp"

using namespace oauthfcgi;
using namespace std::chrono_literals;

namespace {

using RealClock = std::chrono::steady_clock;

const char* const kTokenUrl = "http://127.0.0.1:9/token";
const char* const kApi = "http://127.0.0.1:9/api/";
const LockTiming kTiming{5000ms, 1000ms, 300ms, 5ms};

Result<HttpResponse> reply(long status, const std::string& body, Headers headers = {}) {
  HttpResponse r;
  r.status = status;
  r.headers = headers.empty() ? Headers{{"content-type", "application/json"}} : std::move(headers);
  r.body = body;
  return r;
}

std::string token_answer(const std::string& token, long expires_in = 3600) {
  return R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":)" +
         std::to_string(expires_in) + "}";
}

size_t count_to(const testutil::FakeHttp& http, const std::string& prefix) {
  size_t n = 0;
  for (auto& r : http.requests)
    n += r.url.rfind(prefix, 0) == 0;
  return n;
}

// A token server that hands out tok-1, tok-2, ... living `lifetime` seconds each, and an
// API that takes only the tokens in `valid`.
struct Servers {
  testutil::FakeHttp http;
  std::atomic<int> issued{0};
  long lifetime = 3600;
  std::vector<std::string> valid;
  std::mutex mu;
  Servers() {
    http.on(kTokenUrl, [this](const HttpRequest&) -> Result<HttpResponse> {
      std::string t = "tok-" + std::to_string(++issued);
      std::lock_guard<std::mutex> lock(mu);
      valid.push_back(t);
      return reply(200, token_answer(t, lifetime));
    });
    http.on(kApi, [this](const HttpRequest& r) -> Result<HttpResponse> {
      std::string auth = testutil::header_of(r, "Authorization");
      std::lock_guard<std::mutex> lock(mu);
      for (auto& t : valid)
        if (auth == "Bearer " + t) return reply(200, R"({"ok":true})");
      return reply(401, R"({"error":"invalid_token"})",
                   {{"www-authenticate", "Bearer error=\"invalid_token\""}});
    });
  }
  void revoke_all() {
    std::lock_guard<std::mutex> lock(mu);
    valid.clear();
  }
};

class TokenClientTest : public ::testing::Test {
protected:
  TokenClientTest() {
    store_.use_clock(clock_);
    client_.name = "api";
    client_.token_url = kTokenUrl;
    client_.client_id = "svc";
    client_.client_secret = "Zq8-secret-9vX";
    client_.scope = {"read", "write"};
    keys_ = derive_keys(std::string(32, 'K'));
  }
  const oauthfcgi::Clock& clock() { return clock_; }
  // One "process": its own HTTP client and cache object on the shared store.
  RedisTokenCache redis_cache() { return RedisTokenCache(store_, keys_, client_, kTiming, clock()); }

  ClientConfig client_;
  Keys keys_;
  testutil::MemoryStore store_;
  testutil::FakeClock clock_{1'700'000'000'000LL};
};

// ---- the renewal rule -------------------------------------------------------------

TEST(RenewalMargin, IsTheSmallerOfThirtySecondsAndATenthOfTheLifetime) {
  ClientToken t;
  t.obtained_at = 1'000'000;
  t.expires_at = t.obtained_at + 3'600'000;
  EXPECT_EQ(renewal_margin(t), 30s);
  t.expires_at = t.obtained_at + 100'000;
  EXPECT_EQ(renewal_margin(t), 10s);
  t.expires_at = t.obtained_at + 3'000;
  EXPECT_EQ(renewal_margin(t), 300ms);
  EXPECT_FALSE(needs_renewal(t, t.expires_at - 301));
  EXPECT_TRUE(needs_renewal(t, t.expires_at - 300));
  EXPECT_TRUE(needs_renewal(t, t.expires_at + 1));
}

TEST(ClientTokenRecord, RoundTripsAndRefusesJunk) {
  ClientToken t{"tok", "read write", 123, 456};
  auto back = decode_client_token(encode_client_token(t));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->access_token, "tok");
  EXPECT_EQ(back->scope, "read write");
  EXPECT_EQ(back->obtained_at, 123);
  EXPECT_EQ(back->expires_at, 456);
  EXPECT_FALSE(decode_client_token("{"));
  EXPECT_FALSE(decode_client_token(R"({"access_token":"","obtained_at":1,"expires_at":2})"));
  EXPECT_FALSE(decode_client_token(R"({"access_token":"x","obtained_at":1})"));
}

// ---- the token request ----------------------------------------------------------

TEST_F(TokenClientTest, TokenRequestIsClientCredentialsWithBasicAuthByDefault) {
  testutil::FakeHttp http;
  http.on_json(kTokenUrl, 200,
               R"({"access_token":"a","token_type":"bearer","expires_in":60,"scope":"read"})");
  auto t = request_client_token(http, client_, 5000);
  ASSERT_TRUE(t.ok()) << t.error().reason;
  ASSERT_EQ(http.requests.size(), 1u);
  const HttpRequest& r = http.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(testutil::header_of(r, "Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(testutil::header_of(r, "Accept"), "application/json");
  EXPECT_TRUE(testutil::form_has(r, "grant_type=client_credentials")) << r.body;
  EXPECT_TRUE(testutil::form_has(r, "scope=read%20write")) << r.body;
  EXPECT_EQ(r.body.find("client_secret"), std::string::npos) << "Basic or the form, never both";
  EXPECT_EQ(r.basic_user, "svc");
  EXPECT_EQ(r.basic_password, "Zq8-secret-9vX");
  EXPECT_EQ(t->access_token, "a");
  EXPECT_EQ(t->scope, "read");
  EXPECT_EQ(t->obtained_at, 5000);
  EXPECT_EQ(t->expires_at, 65000);
}

TEST_F(TokenClientTest, ClientSecretPostPutsTheCredentialsInTheForm) {
  client_.auth_method = ClientAuthMethod::client_secret_post;
  client_.scope.clear();
  testutil::FakeHttp http;
  http.on_json(kTokenUrl, 200, R"({"access_token":"a","token_type":"Bearer"})");
  auto t = request_client_token(http, client_, 5000);
  ASSERT_TRUE(t.ok());
  const HttpRequest& r = http.requests[0];
  EXPECT_TRUE(testutil::form_has(r, "client_id=svc")) << r.body;
  EXPECT_TRUE(testutil::form_has(r, "client_secret=Zq8-secret-9vX")) << r.body;
  EXPECT_EQ(r.body.find("scope="), std::string::npos) << "no scope configured, none asked";
  EXPECT_TRUE(r.basic_user.empty());
  EXPECT_EQ(t->expires_at - t->obtained_at, 300'000) << "no expires_in: kept five minutes";
}

TEST_F(TokenClientTest, TokenEndpointErrorsNameTheClientAndNeverTheSecret) {
  testutil::FakeHttp http;
  http.on_json(kTokenUrl, 401,
               R"({"error":"invalid_client","error_description":"bad secret Zq8-secret-9vX for svc"})");
  auto t = request_client_token(http, client_, 0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::provider_error);
  EXPECT_NE(t.error().reason.find("[client api] token endpoint refused: invalid_client"), std::string::npos)
      << t.error().reason;
  EXPECT_EQ(t.error().reason.find("Zq8-secret-9vX"), std::string::npos) << t.error().reason;

  testutil::FakeHttp html;
  html.on_answer(kTokenUrl, 500, {{"content-type", "text/html"}}, "<html>down</html>");
  t = request_client_token(html, client_, 0);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().reason.find("answered HTTP 500"), std::string::npos) << t.error().reason;

  testutil::FakeHttp mac;
  mac.on_json(kTokenUrl, 200, R"({"access_token":"a","token_type":"mac"})");
  EXPECT_FALSE(request_client_token(mac, client_, 0).ok()) << "only bearer tokens";

  testutil::FakeHttp slow;
  slow.on(kTokenUrl, [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::provider_timeout, "127.0.0.1 did not answer within 200 ms");
  });
  t = request_client_token(slow, client_, 0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::provider_timeout);
  EXPECT_EQ(t.error().reason, "[client api] token endpoint: 127.0.0.1 did not answer within 200 ms");
}

// ---- TokenClient with the memory cache ----------------------------------------------

TEST_F(TokenClientTest, FirstRequestGetsATokenAndLaterOnesReuseIt) {
  Servers s;
  MemoryTokenCache cache(kTiming.wait, clock());
  TokenClient tc(client_, s.http, cache, nullptr, clock());
  for (int i = 0; i < 3; ++i) {
    HttpRequest r = http_get(std::string(kApi) + "x", {{"Authorization", "Basic forged"}, {"X-Mine", "1"}});
    auto got = tc.fetch(r);
    ASSERT_TRUE(got.ok()) << got.error().reason;
    EXPECT_EQ(got->response.status, 200);
    EXPECT_EQ(got->token, "tok-1");
    EXPECT_FALSE(got->retried);
  }
  EXPECT_EQ(s.issued, 1);
  EXPECT_EQ(count_to(s.http, kApi), 3u);
  const HttpRequest& api = s.http.requests.back();
  EXPECT_EQ(testutil::header_of(api, "Authorization"), "Bearer tok-1");
  EXPECT_EQ(testutil::header_of(api, "X-Mine"), "1");
  int authorizations = 0;
  for (auto& [n, v] : api.headers)
    authorizations += n == "Authorization";
  EXPECT_EQ(authorizations, 1) << "the caller's Authorization is replaced";
}

TEST_F(TokenClientTest, RenewsOnlyOnceLessThanTheMarginIsLeft) {
  Servers s;
  s.lifetime = 100; // margin: 10 s
  MemoryTokenCache cache(kTiming.wait, clock());
  TokenClient tc(client_, s.http, cache, nullptr, clock());
  ASSERT_EQ(tc.token()->access_token, "tok-1");
  clock_.advance(89'999ms); // 10.001 s left
  EXPECT_EQ(tc.token()->access_token, "tok-1");
  clock_.advance(2ms); // 9.999 s left
  EXPECT_EQ(tc.token()->access_token, "tok-2");
  EXPECT_EQ(tc.token()->access_token, "tok-2");
  EXPECT_EQ(s.issued, 2);
}

TEST_F(TokenClientTest, A401GetsOneNewTokenAndOneRetry) {
  Servers s;
  MemoryTokenCache cache(kTiming.wait, clock());
  TokenClient tc(client_, s.http, cache, nullptr, clock());
  ASSERT_TRUE(tc.token().ok());
  s.revoke_all(); // tok-1 is refused from now on
  auto got = tc.fetch(http_get(std::string(kApi) + "x"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->response.status, 200);
  EXPECT_TRUE(got->retried);
  EXPECT_EQ(got->token, "tok-2");
  EXPECT_EQ(s.issued, 2);
  EXPECT_EQ(count_to(s.http, kApi), 2u);
  EXPECT_EQ(testutil::header_of(s.http.requests.back(), "Authorization"), "Bearer tok-2");
}

TEST_F(TokenClientTest, ASecond401IsTheAnswerWithoutAThirdTry) {
  testutil::FakeHttp http;
  int issued = 0;
  http.on(kTokenUrl,
          [&](const HttpRequest&) { return reply(200, token_answer("t" + std::to_string(++issued))); });
  http.on_answer(kApi, 401, {{"www-authenticate", "Bearer"}}, "no");
  MemoryTokenCache cache(kTiming.wait, clock());
  TokenClient tc(client_, http, cache, nullptr, clock());
  auto got = tc.fetch(http_get(std::string(kApi) + "x"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->response.status, 401);
  EXPECT_EQ(got->response.body, "no");
  EXPECT_TRUE(got->retried);
  EXPECT_EQ(issued, 2);
  EXPECT_EQ(count_to(http, kApi), 2u);
}

TEST_F(TokenClientTest, ATokenEndpointErrorIsReturnedAndNoResourceIsAsked) {
  testutil::FakeHttp http;
  http.on_answer(kTokenUrl, 500, {{"content-type", "text/plain"}}, "oops");
  http.on_json(kApi, 200, "{}");
  MemoryTokenCache cache(kTiming.wait, clock());
  TokenClient tc(client_, http, cache, nullptr, clock());
  FetchStep step = FetchStep::resource;
  auto got = tc.fetch(http_get(std::string(kApi) + "x"), &step);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(step, FetchStep::token);
  EXPECT_NE(got.error().reason.find("[client api] token endpoint answered HTTP 500"), std::string::npos)
      << got.error().reason;
  EXPECT_EQ(count_to(http, kApi), 0u);
}

TEST_F(TokenClientTest, AFailedRenewalAfterA401MakesNoSecondResourceRequest) {
  testutil::FakeHttp http;
  int calls = 0;
  http.on(kTokenUrl, [&](const HttpRequest&) {
    return ++calls == 1 ? reply(200, token_answer("t1")) : reply(400, R"({"error":"invalid_scope"})");
  });
  http.on_answer(kApi, 401, {}, "");
  MemoryTokenCache cache(kTiming.wait, clock());
  TokenClient tc(client_, http, cache, nullptr, clock());
  FetchStep step = FetchStep::resource;
  auto got = tc.fetch(http_get(std::string(kApi) + "x"), &step);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(step, FetchStep::token);
  EXPECT_NE(got.error().reason.find("invalid_scope"), std::string::npos);
  EXPECT_EQ(count_to(http, kApi), 1u);
}

TEST_F(TokenClientTest, ResourceTransportErrorsAreTheResourceStep) {
  Servers s;
  MemoryTokenCache cache(kTiming.wait, clock());
  TokenClient tc(client_, s.http, cache, nullptr, clock());
  FetchStep step = FetchStep::token;
  auto got = tc.fetch(http_get("http://127.0.0.1:9/elsewhere"), &step);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(step, FetchStep::resource);
}

TEST_F(TokenClientTest, MemoryCacheThreadsShareOneRenewal) {
  MemoryTokenCache cache(2000ms, clock());
  std::atomic<int> requests{0};
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto t = cache.get("", [&](const PrepareRequest&) -> Result<ClientToken> {
        ++requests;
        std::this_thread::sleep_for(100ms);
        return ClientToken{"shared", "", clock_.now_ms(), clock_.now_ms() + 3'600'000};
      });
      got[i] = t.ok() ? t->access_token : "error: " + t.error().reason;
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(requests, 1);
  for (auto& g : got)
    EXPECT_EQ(g, "shared");
}

TEST_F(TokenClientTest, MemoryCacheWaitersGetTheRenewalsErrorAndAreBounded) {
  MemoryTokenCache cache(2000ms, clock());
  std::atomic<int> requests{0};
  auto failing = [&](const PrepareRequest&) -> Result<ClientToken> {
    ++requests;
    std::this_thread::sleep_for(100ms);
    return make_error(ErrorKind::provider_error, "[client api] token endpoint answered HTTP 503");
  };
  std::vector<std::thread> threads;
  std::vector<std::string> got(4);
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      auto t = cache.get("", failing);
      got[i] = t.ok() ? "token" : t.error().reason;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(requests, 1);
  for (auto& g : got)
    EXPECT_EQ(g, "[client api] token endpoint answered HTTP 503");

  MemoryTokenCache quick(50ms, clock());
  std::thread stuck([&] {
    (void)quick.get("", [](const PrepareRequest&) -> Result<ClientToken> {
      std::this_thread::sleep_for(400ms);
      return make_error(ErrorKind::provider_error, "late");
    });
  });
  std::this_thread::sleep_for(50ms);
  auto start = RealClock::now();
  auto t = quick.get("", failing);
  auto took = RealClock::now() - start;
  stuck.join();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::provider_timeout);
  EXPECT_NE(t.error().reason.find("another thread"), std::string::npos);
  EXPECT_LT(took, 300ms);
}

// ---- the Redis cache --------------------------------------------------------------

TEST_F(TokenClientTest, RedisCacheSealsTheTokenForItsLifetimeUnderAHashedKey) {
  Servers s;
  RedisTokenCache cache = redis_cache();
  TokenClient tc(client_, s.http, cache, nullptr, clock());
  ASSERT_TRUE(tc.token().ok());
  EXPECT_EQ(store_.keys(), std::vector<std::string>{cache.token_key()});
  EXPECT_EQ(cache.token_key().rfind("client_token:", 0), 0u);
  EXPECT_EQ(cache.lock_key(), "lock:" + cache.token_key());
  for (const char* clear : {"api", "svc", "127.0.0.1", "read"})
    EXPECT_EQ(cache.token_key().find(clear), std::string::npos) << clear;
  auto sealed = store_.peek(cache.token_key());
  ASSERT_TRUE(sealed);
  EXPECT_EQ(sealed->find("tok-1"), std::string::npos) << "encrypted at rest";
  auto ttl = store_.ttl(cache.token_key());
  ASSERT_TRUE(ttl.ok() && ttl->has_value());
  EXPECT_GT(**ttl, 3590s);
  EXPECT_LE(**ttl, 3600s);

  // Another scope, token URL or client id is another token.
  ClientConfig other = client_;
  other.scope = {"read"};
  EXPECT_NE(RedisTokenCache(store_, keys_, other, kTiming).token_key(), cache.token_key());
  other = client_;
  other.client_id = "svc2";
  EXPECT_NE(RedisTokenCache(store_, keys_, other, kTiming).token_key(), cache.token_key());
}

TEST_F(TokenClientTest, RedisCacheIsSharedByProcesses) {
  Servers a, b;
  RedisTokenCache cache_a = redis_cache(), cache_b = redis_cache();
  TokenClient first(client_, a.http, cache_a, nullptr, clock());
  TokenClient second(client_, b.http, cache_b, nullptr, clock());
  ASSERT_EQ(first.token()->access_token, "tok-1");
  ASSERT_EQ(second.token()->access_token, "tok-1");
  EXPECT_EQ(a.issued + b.issued, 1);
}

TEST_F(TokenClientTest, RedisCacheRenewsInTheMarginAndAfterARefusal) {
  Servers s;
  s.lifetime = 3; // margin: 300 ms
  RedisTokenCache cache = redis_cache();
  ASSERT_EQ(TokenClient(client_, s.http, cache, nullptr, clock()).token()->access_token, "tok-1");
  clock_.advance(2'699ms);
  EXPECT_EQ(TokenClient(client_, s.http, cache, nullptr, clock()).token()->access_token, "tok-1");
  clock_.advance(2ms);
  EXPECT_EQ(TokenClient(client_, s.http, cache, nullptr, clock()).token()->access_token, "tok-2");
  // tok-2 is fresh, but refused: renewed anyway.
  auto renewed = cache.get(
      "tok-2", [&](const PrepareRequest&) { return request_client_token(s.http, client_, clock_.now_ms()); });
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->access_token, "tok-3");
  EXPECT_EQ(s.issued, 3);
}

TEST_F(TokenClientTest, RedisCacheSealedUnderAnotherSecretIsRenewed) {
  Servers s;
  RedisTokenCache cache = redis_cache();
  ASSERT_TRUE(*store_.set_if_absent(cache.token_key(), aes256gcm_seal(std::string(32, 'X'), "{}"), 60s));
  EXPECT_EQ(TokenClient(client_, s.http, cache, nullptr, clock()).token()->access_token, "tok-1");
}

// Two "processes" at once: the second waits for the first's slow token request and
// uses its token; the lock is gone afterwards.
TEST_F(TokenClientTest, RedisCacheWaitersUseTheRenewersToken) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> requests{0};
  auto slow = [&](const PrepareRequest&) -> Result<ClientToken> {
    ++requests;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return ClientToken{"slow-token", "", clock_.now_ms(), clock_.now_ms() + 3'600'000};
  };
  LockTiming patient = kTiming;
  patient.wait = 5000ms;
  RedisTokenCache a(store_, keys_, client_, patient, clock()), b(store_, keys_, client_, patient, clock());
  std::string got_a, got_b;
  // The renewer answers once the second waits, whose wait lasts (in real time) until
  // the first is done.
  std::promise<void> first_done;
  bool first_sleep = true;
  clock_.on_sleep = [&](std::chrono::milliseconds) {
    if (!std::exchange(first_sleep, false)) return;
    {
      std::lock_guard<std::mutex> lock(mu);
      release = true;
    }
    cv.notify_all();
    first_done.get_future().wait();
  };
  std::thread first([&] {
    got_a = a.get("", slow)->access_token;
    first_done.set_value();
  });
  ASSERT_TRUE(testutil::wait_until([&] { return store_.peek(a.lock_key()).has_value(); }, 2s));
  std::thread second([&] { got_b = b.get("", slow)->access_token; });
  first.join();
  second.join();
  EXPECT_EQ(requests, 1);
  EXPECT_EQ(got_a, "slow-token");
  EXPECT_EQ(got_b, "slow-token");
  EXPECT_FALSE(store_.peek(a.lock_key())) << "released";
}

TEST_F(TokenClientTest, RedisCacheWaitersGetTheRenewersError) {
  std::atomic<int> requests{0};
  // The renewer fails once the other waits, whose wait lasts (in real time) until the
  // renewer is done.
  std::promise<void> b_waits, first_done;
  auto failing = [&, waiting = b_waits.get_future().share()](const PrepareRequest&) -> Result<ClientToken> {
    ++requests;
    waiting.wait_for(10s);
    return make_error(ErrorKind::provider_error, "[client api] token endpoint refused: invalid_client");
  };
  bool first_sleep = true;
  clock_.on_sleep = [&](std::chrono::milliseconds) {
    if (!std::exchange(first_sleep, false)) return;
    b_waits.set_value();
    first_done.get_future().wait();
  };
  RedisTokenCache a = redis_cache(), b = redis_cache();
  Result<ClientToken> got_a = make_error(ErrorKind::internal, ""), got_b = got_a;
  std::thread first([&] {
    got_a = a.get("", failing);
    first_done.set_value();
  });
  ASSERT_TRUE(testutil::wait_until([&] { return store_.peek(a.lock_key()).has_value(); }, 2s));
  got_b = b.get("", failing);
  first.join();
  EXPECT_EQ(requests, 1);
  ASSERT_FALSE(got_a.ok());
  ASSERT_FALSE(got_b.ok());
  EXPECT_EQ(got_b.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(got_b.error().reason, got_a.error().reason);
  auto note = store_.peek(a.error_key());
  ASSERT_TRUE(note);
  EXPECT_EQ(note->find("invalid_client"), std::string::npos) << "sealed";

  // A later caller that waited on nobody tries for itself.
  auto later = b.get("", [&](const PrepareRequest&) -> Result<ClientToken> {
    return ClientToken{"ok", "", clock_.now_ms(), clock_.now_ms() + 60'000};
  });
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->access_token, "ok");
}

TEST_F(TokenClientTest, RedisCacheWaitIsBoundedAndMakesNoRequest) {
  RedisTokenCache cache = redis_cache();
  ASSERT_TRUE(*store_.set_if_absent(cache.lock_key(), "token:STUCK", 60s));
  int requests = 0;
  auto start = clock_.steady();
  auto t = cache.get("", [&](const PrepareRequest&) -> Result<ClientToken> {
    ++requests;
    return ClientToken{"x", "", 1, 2};
  });
  auto took = clock_.steady() - start;
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::provider_timeout);
  EXPECT_NE(t.error().reason.find("another process"), std::string::npos);
  EXPECT_EQ(requests, 0);
  EXPECT_GE(took, kTiming.wait);
  EXPECT_LT(took, kTiming.wait + 500ms);
  EXPECT_EQ(store_.peek(cache.lock_key()), "token:STUCK");
}

TEST_F(TokenClientTest, RedisCacheKeepsItsLockWhileTheTokenEndpointIsSlow) {
  RedisTokenCache cache = redis_cache();
  testutil::FakeHttp http;
  http.on(kTokenUrl, [&](const HttpRequest& r) -> Result<HttpResponse> {
    for (int i = 0; i < 3; ++i) {
      store_.advance(4000ms); // past the 5 s lease twice over, but beating
      r.heartbeat();
    }
    EXPECT_TRUE(store_.peek(cache.lock_key()).has_value());
    return reply(200, token_answer("late"));
  });
  TokenClient tc(client_, http, cache, nullptr, clock());
  auto t = tc.token();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->access_token, "late");
}

TEST_F(TokenClientTest, RedisDownIsAnErrorAndNoTokenRequest) {
  Servers s;
  store_.set_unavailable(true);
  RedisTokenCache cache = redis_cache();
  TokenClient tc(client_, s.http, cache, nullptr, clock());
  FetchStep step = FetchStep::resource;
  auto got = tc.fetch(http_get(std::string(kApi) + "x"), &step);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::store_unavailable);
  EXPECT_EQ(step, FetchStep::token);
  EXPECT_EQ(s.http.requests.size(), 0u);
}

} // namespace
