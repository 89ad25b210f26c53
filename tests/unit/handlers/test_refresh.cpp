// Token refresh: the refresh grant on the wire (flow.cpp), and keeping a session's
// token usable (refresh.cpp) with a MemoryStore and scripted providers: the session's
// lock (one owner, waiters using its result or giving up, released only by its owner,
// its lease extended while the provider answers), invalid_grant ending the session,
// outages keeping it, retry-on-401, oauth-profile's ?refresh=1, and oauth-check's
// pass_access_token (a live token handed on; no token read without it). Waits take no
// real time: the fixture's FakeClock moves as the waiters sleep.
#include "refresh.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>
#include <utility>

#include "clock.hpp"
#include "flow.hpp"
#include "handler_harness.hpp"
#include "handlers.hpp"
#include "routes.hpp"
#include "store_keys.hpp"

using namespace oauthfcgi;
using namespace std::chrono_literals;

namespace {

const char* const kCorpToken = "http://127.0.0.1:9/token";
const char* const kCorpUser = "http://127.0.0.1:9/userinfo";
const char* const kCorpRevoke = "http://127.0.0.1:9/revoke";
const char* const kGithubToken = "https://github.com/login/oauth/access_token";

Result<HttpResponse> json_reply(long status, const std::string& body) {
  HttpResponse r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}};
  r.body = body;
  return r;
}

std::string rotated(const std::string& access, const std::string& refresh, long expires_in = 3600) {
  return R"({"access_token":")" + access + R"(","token_type":"Bearer","expires_in":)" +
         std::to_string(expires_in) + R"(,"refresh_token":")" + refresh + R"(","scope":"openid profile"})";
}

class Refresh : public testutil::HandlerTest {
protected:
  void SetUp() override {
    std::string text = "[server]\npublic_url = https://www.example.com\nsecret_file = secret\n"
                       "[redis]\ntimeout_ms = 50\n[http]\ntimeout_ms = 200\n"
                       "[provider corp]\ntype = oauth2\nclient_id = corp-id\nclient_secret = corp-secret\n"
                       "pass_access_token = true\n"
                       "authorize_url = http://127.0.0.1:9/authorize\ntoken_url = http://127.0.0.1:9/token\n"
                       "userinfo_url = http://127.0.0.1:9/userinfo\nrevoke_url = http://127.0.0.1:9/revoke\n"
                       "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = gh-secret\n"
                       "[provider facebook]\ntype = facebook\nclient_id = 1234\nclient_secret = fb-secret\n";
    load_config(text);
    cookie_ = system_random().token(32);
    now_ = clock_.now();
  }

  Provider provider(const std::string& name) {
    auto p = resolve_provider(*config_->find_provider(name));
    EXPECT_TRUE(p.ok());
    return p.value();
  }
  AuthStore auth() { return AuthStore(store_, keys_); }

  // A signed-in corp user whose token expires in `expires_in` seconds (0: never said).
  Session session(long expires_in, const std::string& access = "at-OLD",
                  const std::string& refresh = "rt-OLD") {
    Session s;
    s.profile.provider = "corp";
    s.profile.id = "u1";
    s.profile.login = "ann";
    s.profile.name = "Ann";
    s.tokens.access_token = access;
    s.tokens.token_type = "Bearer";
    s.tokens.refresh_token = refresh;
    s.tokens.scope = "openid profile";
    s.tokens.expires_at = expires_in ? now_ + expires_in : 0;
    s.created = now_ - 100;
    s.expires_at = now_ + 3600;
    s.orgs = {"acme"};
    return s;
  }
  Session stored_session(long expires_in) {
    Session s = session(expires_in);
    EXPECT_TRUE(auth().put_session(cookie_, s, 3600s).ok());
    return s;
  }
  std::optional<Session> stored() {
    auto s = auth().get_session(cookie_);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : std::nullopt;
  }
  // GET /auth/profile?query through the pipeline with the session cookie.
  Response profile_request(const std::string& query) {
    Context c = context();
    Program program{"oauth-profile", ""};
    program.routes = {route("profile")};
    return handle_request(program,
                          Request({{"REQUEST_METHOD", "GET"},
                                   {"SCRIPT_NAME", "/auth/profile"},
                                   {"QUERY_STRING", query},
                                   {"HTTP_COOKIE", "__Host-oauth_session=" + cookie_}}),
                          c);
  }
  // GET /auth/check through oauth-check's pipeline with the session cookie, logging to `log`.
  Response check_request(const Log& log) {
    Context c = context(http_, log);
    Program program{"oauth-check", ""};
    program.routes = {route("check")};
    return handle_request(program,
                          Request({{"REQUEST_METHOD", "GET"},
                                   {"SCRIPT_NAME", "/auth/check"},
                                   {"REQUEST_URI", "/private/"},
                                   {"HTTP_COOKIE", "__Host-oauth_session=" + cookie_}}),
                          c);
  }
  Response check_request() { return check_request(log_); }
  std::optional<std::string> lock_value() { return store_.peek(auth().lock_key(cookie_)); }
  // The session's lock as another process takes and releases it: straight on the Store.
  bool take_lock(const std::string& owner, std::chrono::milliseconds lease) {
    auto taken = store_.set_if_absent(auth().lock_key(cookie_), owner, lease);
    return taken.ok() && *taken;
  }
  bool release_lock(const std::string& owner) {
    auto released = store_.remove_if_equals(auth().lock_key(cookie_), owner);
    return released.ok() && *released;
  }
  // fresh_tokens(force=false) while `holder` holds the lock; 50 ms in (on the clock
  // its wait moves), the holder runs `outcome` and releases it.
  Result<Session> while_other_holds(const std::string& holder, std::function<void()> outcome,
                                    const Session& s) {
    EXPECT_TRUE(take_lock(holder, 5000ms));
    clock_.at(50ms, [&] {
      outcome();
      EXPECT_TRUE(release_lock(holder));
    });
    Context c = context();
    auto r = fresh_tokens(c, provider("corp"), cookie_, s, false);
    return r;
  }

  std::string cookie_;
  long now_ = 0;
};

} // namespace

// ---- the refresh grant (flow.cpp) --------------------------------------------------

TEST_F(Refresh, GrantCarriesTheRefreshTokenAndClientCredentialsInTheForm) {
  http_.on_json(
      kGithubToken, 200,
      R"({"access_token":"ghu_NEW","token_type":"bearer","expires_in":28800,"refresh_token":"ghr_NEW",)"
      R"("refresh_token_expires_in":15897600,"scope":"read:user,user:email"})");
  TokenSet old;
  old.access_token = "ghu_OLD";
  old.refresh_token = "ghr_OLD";
  auto t = refresh_tokens(http_, provider("github"), old, now_);
  ASSERT_TRUE(t.ok()) << t.error().reason;
  ASSERT_EQ(http_.requests.size(), 1u);
  const HttpRequest& r = http_.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, kGithubToken);
  EXPECT_EQ(testutil::header_of(r, "Accept"), "application/json");
  for (const char* pair :
       {"grant_type=refresh_token", "refresh_token=ghr_OLD", "client_id=Iv1.abc", "client_secret=gh-secret"})
    EXPECT_TRUE(testutil::form_has(r, pair)) << pair << " in " << r.body;
  EXPECT_TRUE(r.basic_user.empty());
  EXPECT_EQ(t->access_token, "ghu_NEW");
  EXPECT_EQ(t->refresh_token, "ghr_NEW");
  EXPECT_EQ(t->expires_at, now_ + 28800);
  EXPECT_EQ(t->refresh_expires_at, now_ + 15897600);
  EXPECT_EQ(t->scope, "read:user user:email");
}

TEST_F(Refresh, BasicClientAuthSendsNoSecretInTheForm) {
  Provider p = provider("corp");
  p.basic_auth = true;
  http_.on_json(kCorpToken, 200, rotated("at-NEW", "rt-NEW"));
  ASSERT_TRUE(refresh_tokens(http_, p, session(10).tokens, now_).ok());
  const HttpRequest& r = http_.requests.at(0);
  EXPECT_EQ(r.basic_user, "corp-id");
  EXPECT_EQ(r.basic_password, "corp-secret");
  EXPECT_EQ(r.body.find("client_secret"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("client_id"), std::string::npos) << r.body;
}

TEST_F(Refresh, WhatTheAnswerLeavesOutIsKept) {
  // Google does not rotate: no refresh_token, and no scope means the same scope.
  http_.on_json(kCorpToken, 200, R"({"access_token":"at-NEW","token_type":"Bearer","expires_in":60})");
  TokenSet old = session(10).tokens;
  old.refresh_expires_at = now_ + 5000;
  old.id_token = "old.id.token";
  auto t = refresh_tokens(http_, provider("corp"), old, now_);
  ASSERT_TRUE(t.ok()) << t.error().reason;
  EXPECT_EQ(t->access_token, "at-NEW");
  EXPECT_EQ(t->expires_at, now_ + 60);
  EXPECT_EQ(t->refresh_token, "rt-OLD");
  EXPECT_EQ(t->refresh_expires_at, now_ + 5000);
  EXPECT_EQ(t->scope, "openid profile");
  EXPECT_EQ(t->id_token, "old.id.token");
}

TEST_F(Refresh, InvalidGrantEndsTheSignInWithoutQuotingATokenOrSecret) {
  http_.on_json(
      kCorpToken, 400,
      R"x({"error":"invalid_grant","error_description":"refresh token rt-OLD expired (corp-secret)"})x");
  auto t = refresh_tokens(http_, provider("corp"), session(10).tokens, now_);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::unauthenticated);
  EXPECT_NE(t.error().reason.find("corp ended the sign-in (invalid_grant)"), std::string::npos)
      << t.error().reason;
  EXPECT_EQ(t.error().reason.find("rt-OLD"), std::string::npos) << t.error().reason;
  EXPECT_EQ(t.error().reason.find("corp-secret"), std::string::npos) << t.error().reason;

  // GitHub answers HTTP 200 with bad_refresh_token.
  testutil::FakeHttp github;
  github.on_json(kGithubToken, 200,
                 R"({"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect )"
                 R"(or expired."})");
  auto g = refresh_tokens(github, provider("github"), session(10).tokens, now_);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().kind, ErrorKind::unauthenticated);
  EXPECT_NE(g.error().reason.find("(bad_refresh_token)"), std::string::npos) << g.error().reason;
}

TEST_F(Refresh, OtherRefusalsAndOutagesAreProviderErrors) {
  for (auto [status, body] : std::vector<std::pair<long, std::string>>{
           {401, R"({"error":"invalid_client"})"}, {500, "oops"}, {400, R"({"error":"invalid_scope"})"}}) {
    testutil::FakeHttp http;
    http.on_json(kCorpToken, status, body);
    auto t = refresh_tokens(http, provider("corp"), session(10).tokens, now_);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().kind, ErrorKind::provider_error) << body;
  }
  testutil::FakeHttp slow;
  slow.on(kCorpToken, [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::provider_timeout, "127.0.0.1 did not answer within 200 ms");
  });
  auto t = refresh_tokens(slow, provider("corp"), session(10).tokens, now_);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::provider_timeout);
}

TEST_F(Refresh, NothingToRefreshWithIsUnauthenticatedWithoutACall) {
  TokenSet none = session(10).tokens;
  none.refresh_token.clear();
  TokenSet lapsed = session(10).tokens;
  lapsed.refresh_expires_at = now_ - 1;
  EXPECT_FALSE(refreshable(provider("corp"), none, now_));
  EXPECT_FALSE(refreshable(provider("corp"), lapsed, now_));
  EXPECT_FALSE(refreshable(provider("facebook"), session(10).tokens, now_))
      << "Facebook has no refresh grant";
  EXPECT_TRUE(refreshable(provider("corp"), session(10).tokens, now_));
  auto t = refresh_tokens(http_, provider("corp"), none, now_);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().kind, ErrorKind::unauthenticated);
  EXPECT_TRUE(http_.requests.empty());
}

// ---- fresh_tokens: when, and what is stored --------------------------------------

TEST_F(Refresh, TokenFarFromExpiryOrWithoutOneIsUsedAsIs) {
  Context c = context();
  for (long expires_in : {0L, 61L + 5, 3600L}) {
    auto s = fresh_tokens(c, provider("corp"), cookie_, session(expires_in), false);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->tokens.access_token, "at-OLD");
  }
  EXPECT_TRUE(http_.requests.empty());
  EXPECT_TRUE(token_expiring(session(60).tokens, now_));
  EXPECT_FALSE(token_expiring(session(61).tokens, now_));
}

TEST_F(Refresh, ExpiringTokenIsRefreshedStoredWholeAndTheLockReleased) {
  Session before = stored_session(30);
  http_.on_json(kCorpToken, 200, rotated("at-NEW", "rt-NEW"));
  Context c = context();
  auto s = fresh_tokens(c, provider("corp"), cookie_, before, false);
  ASSERT_TRUE(s.ok()) << s.error().reason;
  EXPECT_EQ(s->tokens.access_token, "at-NEW");
  auto after = stored();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->tokens.access_token, "at-NEW");
  EXPECT_EQ(after->tokens.refresh_token, "rt-NEW");
  EXPECT_EQ(after->tokens.expires_at, now_ + 3600);
  EXPECT_EQ(after->created, before.created);
  EXPECT_EQ(after->expires_at, before.expires_at);
  EXPECT_EQ(after->orgs, before.orgs);
  EXPECT_EQ(after->profile.login, before.profile.login);
  EXPECT_FALSE(lock_value()) << "released";
  // Its TTL is the session's time left, as at sign-in.
  auto ttl = store_.ttl(auth().session_key(cookie_));
  ASSERT_TRUE(ttl.ok() && ttl->has_value());
  EXPECT_GT(**ttl, 3500s);
  EXPECT_LE(**ttl, 3600s);
}

TEST_F(Refresh, ExpiredTokenWithoutRefreshTokenEndsTheSessionOneStillValidIsUsed) {
  Session s = session(30);
  s.tokens.refresh_token.clear();
  ASSERT_TRUE(auth().put_session(cookie_, s, 3600s).ok());
  Context c = context();
  auto still = fresh_tokens(c, provider("corp"), cookie_, s, false);
  ASSERT_TRUE(still.ok()) << "good for 30 s more";
  s.tokens.expires_at = now_ - 1;
  auto ended = fresh_tokens(c, provider("corp"), cookie_, s, false);
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().kind, ErrorKind::unauthenticated);
  EXPECT_FALSE(stored());
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(Refresh, OwnerFindingTheSessionAlreadyRefreshedMakesNoCall) {
  Session old = session(30);
  Session renewed = session(3600, "at-OTHER", "rt-OTHER");
  ASSERT_TRUE(auth().put_session(cookie_, renewed, 3600s).ok());
  Context c = context();
  auto s = fresh_tokens(c, provider("corp"), cookie_, old, false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->tokens.access_token, "at-OTHER");
  EXPECT_TRUE(http_.requests.empty());
  // force: the refused token was already replaced: use the replacement.
  auto forced = fresh_tokens(c, provider("corp"), cookie_, old, true);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->tokens.access_token, "at-OTHER");
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(Refresh, InvalidGrantDeletesTheSession) {
  Session before = stored_session(30);
  http_.on_json(kCorpToken, 400, R"({"error":"invalid_grant","error_description":"refresh token revoked"})");
  Context c = context();
  auto s = fresh_tokens(c, provider("corp"), cookie_, before, false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(http_status(s.error().kind), 401);
  EXPECT_FALSE(stored());
  EXPECT_FALSE(lock_value());
}

TEST_F(Refresh, ProviderOutageKeepsTheSessionAsItWas) {
  Session before = stored_session(30);
  int calls = 0;
  http_.on(kCorpToken, [&](const HttpRequest&) -> Result<HttpResponse> {
    if (++calls == 1) return json_reply(503, "{}");
    return make_error(ErrorKind::provider_timeout, "127.0.0.1 did not answer within 200 ms");
  });
  Context c = context();
  auto first = fresh_tokens(c, provider("corp"), cookie_, before, false);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(http_status(first.error().kind), 502);
  auto second = fresh_tokens(c, provider("corp"), cookie_, before, false);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(http_status(second.error().kind), 504);
  auto after = stored();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->tokens.access_token, "at-OLD");
  EXPECT_EQ(after->tokens.refresh_token, "rt-OLD");
  EXPECT_FALSE(lock_value());
}

TEST_F(Refresh, LogoutWhileTheProviderAnswersIsNotUndone) {
  Session before = stored_session(30);
  http_.on(kCorpToken, [&](const HttpRequest&) {
    EXPECT_TRUE(auth().delete_session(cookie_).ok());
    return json_reply(200, rotated("at-NEW", "rt-NEW"));
  });
  Context c = context();
  auto s = fresh_tokens(c, provider("corp"), cookie_, before, false);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::unauthenticated);
  EXPECT_FALSE(stored());
}

// The race the check above leaves open: the logout lands after the refresh last looked
// and before it writes the session back. The write must not resurrect the session.
TEST_F(Refresh, LogoutJustBeforeTheWriteBackIsNotUndone) {
  stored_session(30);
  bool answered = false;
  http_.on(kCorpToken, [&](const HttpRequest&) {
    answered = true;
    return json_reply(200, rotated("at-NEW", "rt-NEW"));
  });
  http_.on_answer(kCorpRevoke, 200, {}, "");
  http_.on_json(kCorpUser, 200, R"({"sub":"u1","preferred_username":"ann","name":"Ann"})");
  const std::string key = auth().session_key(cookie_);
  int logouts = 0;
  store_.before_write([&](std::string_view, std::string_view written) {
    if (!answered || written != key || logouts) return;
    ++logouts;
    auto taken = auth().take_session(cookie_); // what POST /logout does
    EXPECT_TRUE(taken.ok() && taken->found);
  });
  Response during = profile_request("refresh=1");
  EXPECT_EQ(logouts, 1) << "the logout ran";
  EXPECT_EQ(during.status, 401) << during.body;
  EXPECT_FALSE(store_.peek(key)) << "the ended session was written back";
  EXPECT_EQ(profile_request("").status, 401) << "the cookie still signs in";
  // The tokens the refresh obtained are stored nowhere, and revoked at the provider.
  for (const auto& k : store_.keys())
    EXPECT_EQ(k.rfind("session:", 0), std::string::npos) << k;
  bool revoked = false;
  for (const auto& r : http_.requests)
    if (r.url == kCorpRevoke && r.body.find("rt-NEW") != std::string::npos) revoked = true;
  EXPECT_TRUE(revoked) << "the refreshed refresh token was not revoked";
}

// The same race against a profile update (oauth-profile ?refresh=1 with a fresh token).
TEST_F(Refresh, LogoutJustBeforeAProfileUpdateIsNotUndone) {
  stored_session(3600);
  http_.on_json(kCorpUser, 200, R"({"sub":"u1","preferred_username":"ann","name":"Ann Renamed"})");
  const std::string key = auth().session_key(cookie_);
  int logouts = 0;
  store_.before_write([&](std::string_view, std::string_view written) {
    if (written != key || logouts) return;
    ++logouts;
    EXPECT_TRUE(auth().take_session(cookie_).ok());
  });
  Response during = profile_request("refresh=1");
  EXPECT_EQ(logouts, 1);
  EXPECT_EQ(during.status, 401) << during.body;
  EXPECT_FALSE(store_.peek(key)) << "the ended session was written back";
  EXPECT_EQ(profile_request("").status, 401);
}

// ---- the lock ----------------------------------------------------------------------

TEST_F(Refresh, LockKeyIsTheSessionsOwnAndReleasedOnlyByItsOwner) {
  AuthStore a = auth();
  std::string key = a.lock_key(cookie_);
  EXPECT_EQ(key, "lock:" + a.session_key(cookie_));
  EXPECT_EQ(key.find(cookie_), std::string::npos);
  LockTiming timing = lock_timing(*config_);
  StoreLock owner(store_, key, "refresh:", timing);
  ASSERT_TRUE(*owner.try_acquire());
  {
    StoreLock other(store_, key, "refresh:", timing);
    EXPECT_FALSE(*other.try_acquire());
  } // and its end releases nothing
  EXPECT_FALSE(take_lock("refresh:B", 5000ms));
  EXPECT_FALSE(release_lock("refresh:B"));
  EXPECT_FALSE(*store_.expire_if_equals(key, "refresh:B", 9000ms));
  EXPECT_EQ(lock_value(), owner.owner());
  auto ttl = store_.ttl(key);
  EXPECT_LE(**ttl, timing.lease) << "B's extension did not apply";
  owner.release();
  EXPECT_FALSE(lock_value());
}

TEST_F(Refresh, OwnerWhoseLeaseLapsedDoesNotReleaseTheNextOwnersLock) {
  Session before = stored_session(30);
  LockTiming timing = lock_timing(*config_);
  http_.on(kCorpToken, [&](const HttpRequest&) {
    store_.advance(timing.lease + 1ms); // the lease runs out, another request takes the lock
    EXPECT_TRUE(take_lock("refresh:NEXT", 5000ms));
    return json_reply(200, rotated("at-NEW", "rt-NEW"));
  });
  Context c = context();
  ASSERT_TRUE(fresh_tokens(c, provider("corp"), cookie_, before, false).ok());
  EXPECT_EQ(lock_value(), "refresh:NEXT");
}

TEST_F(Refresh, LeaseIsExtendedWhileTheProviderAnswers) {
  Session before = stored_session(30);
  LockTiming timing = lock_timing(*config_);
  EXPECT_EQ(timing.lease, 5000ms);
  EXPECT_EQ(timing.heartbeat, timing.lease / 3);
  std::string key = auth().lock_key(cookie_);
  http_.on(kCorpToken, [&](const HttpRequest& request) {
    EXPECT_TRUE(request.heartbeat);
    EXPECT_EQ(request.heartbeat_every, timing.heartbeat);
    // A slow provider: the client beats on; without it the lease would end at 5 s.
    for (int i = 0; i < 4; ++i) {
      store_.advance(timing.lease - 1s);
      if (request.heartbeat) request.heartbeat();
      auto ttl = store_.ttl(key);
      EXPECT_TRUE(ttl.ok() && ttl->has_value()) << "lock still held after " << (i + 1) * 4 << " s";
      if (ttl.ok() && ttl->has_value()) {
        EXPECT_EQ(**ttl, timing.lease);
      }
    }
    return json_reply(200, rotated("at-NEW", "rt-NEW"));
  });
  Context c = context();
  ASSERT_TRUE(fresh_tokens(c, provider("corp"), cookie_, before, false).ok());
  EXPECT_FALSE(lock_value());
}

TEST_F(Refresh, ConcurrentRefreshesMakeOneCallAndTheWaiterUsesItsResult) {
  Session before = stored_session(30);
  // a takes the lock and asks the provider, which answers once b waits; b's wait lasts
  // (in real time) until a is done.
  std::promise<void> a_holds, b_waits, a_done;
  http_.on(kCorpToken, [&](const HttpRequest&) {
    a_holds.set_value();
    b_waits.get_future().wait_for(10s);
    return json_reply(200, rotated("at-NEW", "rt-NEW"));
  });
  bool first_sleep = true;
  clock_.on_sleep = [&](std::chrono::milliseconds) {
    if (!std::exchange(first_sleep, false)) return;
    b_waits.set_value();
    a_done.get_future().wait();
  };
  testutil::FakeHttp waiter_http; // must not be called
  Result<Session> owner = make_error(ErrorKind::internal, "not run"), waiter = owner;
  std::thread a([&] {
    Context c = context();
    owner = fresh_tokens(c, provider("corp"), cookie_, before, false);
    a_done.set_value();
  });
  a_holds.get_future().wait();
  std::thread b([&] {
    Context c = context(waiter_http);
    waiter = fresh_tokens(c, provider("corp"), cookie_, before, false);
  });
  a.join();
  b.join();
  ASSERT_TRUE(owner.ok()) << owner.error().reason;
  ASSERT_TRUE(waiter.ok()) << waiter.error().reason;
  EXPECT_EQ(owner->tokens.access_token, "at-NEW");
  EXPECT_EQ(waiter->tokens.access_token, "at-NEW");
  EXPECT_EQ(waiter->tokens.refresh_token, "rt-NEW");
  EXPECT_EQ(http_.requests.size(), 1u);
  EXPECT_TRUE(waiter_http.requests.empty());
}

TEST_F(Refresh, WaiterAfterAFailedRefreshGets502AfterAnEndedSession401) {
  Session before = stored_session(30);
  auto failed = while_other_holds(
      "refresh:OTHER", [] {}, before);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(http_status(failed.error().kind), 502);
  EXPECT_NE(failed.error().reason.find("refresh by another request failed"), std::string::npos)
      << failed.error().reason;
  auto ended = while_other_holds(
      "refresh:OTHER", [&] { EXPECT_TRUE(auth().delete_session(cookie_).ok()); }, before);
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(http_status(ended.error().kind), 401);
  EXPECT_TRUE(http_.requests.empty()) << "waiters never call the provider";
}

TEST_F(Refresh, WaiterGivesUpAfterTheWaitBound) {
  Session before = stored_session(30);
  ASSERT_TRUE(take_lock("refresh:STUCK", 60000ms));
  LockTiming timing = lock_timing(*config_);
  EXPECT_EQ(timing.wait, 300ms) << "[http] timeout_ms + 2 x [redis] timeout_ms";
  Context c = context();
  auto start = clock_.steady();
  auto s = fresh_tokens(c, provider("corp"), cookie_, before, false);
  auto took = clock_.steady() - start;
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(http_status(s.error().kind), 504);
  EXPECT_GE(took, timing.wait);
  EXPECT_LT(took, timing.wait + 500ms);
  EXPECT_EQ(lock_value(), "refresh:STUCK");
  EXPECT_TRUE(stored()) << "the session stays";
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(Refresh, AfterAProfileUpdateReleasesTheLockTheWaiterRefreshesItself) {
  Session before = stored_session(30);
  http_.on_json(kCorpToken, 200, rotated("at-NEW", "rt-NEW"));
  auto s = while_other_holds(
      "update:OTHER", [] {}, before);
  ASSERT_TRUE(s.ok()) << s.error().reason;
  EXPECT_EQ(s->tokens.access_token, "at-NEW");
  EXPECT_EQ(http_.requests.size(), 1u);
}

// ---- refetch_profile: retry-on-401, and what is stored -----------------------------

TEST_F(Refresh, RefetchStoresTheNewProfileAndKeepsTheRest) {
  Session before = stored_session(3600);
  http_.on_json(kCorpUser, 200, R"({"sub":"u1","preferred_username":"ann","name":"Ann Renamed"})");
  Context c = context();
  auto s = refetch_profile(c, provider("corp"), cookie_, before);
  ASSERT_TRUE(s.ok()) << s.error().reason;
  EXPECT_EQ(s->profile.name, "Ann Renamed");
  ASSERT_EQ(http_.requests.size(), 1u) << "a fresh token needs no refresh";
  EXPECT_EQ(testutil::header_of(http_.requests[0], "Authorization"), "Bearer at-OLD");
  auto after = stored();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->profile.name, "Ann Renamed");
  EXPECT_EQ(after->created, before.created);
  EXPECT_EQ(after->expires_at, before.expires_at);
  EXPECT_EQ(after->orgs, before.orgs);
  EXPECT_EQ(after->tokens.access_token, "at-OLD");
  EXPECT_FALSE(lock_value());
}

TEST_F(Refresh, RefetchRefusesTheProfileOfAnotherUser) {
  Session before = stored_session(3600);
  http_.on_json(kCorpUser, 200, R"({"sub":"someone-else","preferred_username":"eve"})");
  Context c = context();
  auto s = refetch_profile(c, provider("corp"), cookie_, before);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(http_status(s.error().kind), 502);
  EXPECT_EQ(stored()->profile.login, "ann");
}

TEST_F(Refresh, ProviderRefusingTheTokenGetsOneRefreshAndOneRetry) {
  Session before = stored_session(3600);
  http_.on_json(kCorpToken, 200, rotated("at-NEW", "rt-NEW"));
  http_.on(kCorpUser, [](const HttpRequest& r) {
    if (testutil::header_of(r, "Authorization") != "Bearer at-NEW")
      return json_reply(401, R"({"error":"invalid_token"})");
    return json_reply(200, R"({"sub":"u1","preferred_username":"ann","name":"Ann"})");
  });
  Context c = context();
  auto s = refetch_profile(c, provider("corp"), cookie_, before);
  ASSERT_TRUE(s.ok()) << s.error().reason;
  EXPECT_EQ(s->tokens.access_token, "at-NEW");
  ASSERT_EQ(http_.requests.size(), 3u); // userinfo 401, refresh, userinfo 200
  EXPECT_EQ(http_.requests[1].url, kCorpToken);
  EXPECT_EQ(stored()->tokens.refresh_token, "rt-NEW");
}

TEST_F(Refresh, SecondRefusalEndsTheSession) {
  Session before = stored_session(3600);
  http_.on_json(kCorpToken, 200, rotated("at-NEW", "rt-NEW"));
  http_.on_json(kCorpUser, 401, R"({"error":"invalid_token"})");
  Context c = context();
  auto s = refetch_profile(c, provider("corp"), cookie_, before);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(http_status(s.error().kind), 401);
  EXPECT_EQ(http_.requests.size(), 3u) << "one refresh, one retry, no more";
  EXPECT_FALSE(stored());
}

TEST_F(Refresh, RefusedTokenWithNothingToRefreshWithEndsTheSession) {
  Session s = session(0);
  s.tokens.refresh_token.clear(); // a GitHub OAuth app's token, revoked by the user
  ASSERT_TRUE(auth().put_session(cookie_, s, 3600s).ok());
  http_.on_json(kCorpUser, 401, R"({"error":"invalid_token"})");
  Context c = context();
  auto r = refetch_profile(c, provider("corp"), cookie_, s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(http_status(r.error().kind), 401);
  EXPECT_EQ(http_.requests.size(), 1u);
  EXPECT_FALSE(stored());
}

TEST_F(Refresh, ProfileUpdateDoesNotPutBackTokensRotatedMeanwhile) {
  Session before = stored_session(3600);
  http_.on(kCorpUser, [&](const HttpRequest&) {
    // Another process refreshes (and rotates) while the user document is on its way.
    EXPECT_TRUE(auth().put_session(cookie_, session(3600, "at-OTHER", "rt-OTHER"), 3600s).ok());
    return json_reply(200, R"({"sub":"u1","preferred_username":"ann","name":"Ann Renamed"})");
  });
  Context c = context();
  auto s = refetch_profile(c, provider("corp"), cookie_, before);
  ASSERT_TRUE(s.ok()) << s.error().reason;
  auto after = stored();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->profile.name, "Ann Renamed");
  EXPECT_EQ(after->tokens.refresh_token, "rt-OTHER");
  EXPECT_EQ(s->tokens.access_token, "at-OTHER");
}

// ---- oauth-profile ?refresh=1 -------------------------------------------------------

TEST_F(Refresh, ProfileRefreshAnswersTheNewProfilePlainGetCallsNobody) {
  stored_session(30);
  http_.on_json(kCorpToken, 200, rotated("at-NEW", "rt-NEW"));
  http_.on_json(kCorpUser, 200, R"({"sub":"u1","preferred_username":"ann","name":"Ann Renamed"})");
  auto get = [&](const std::string& query) {
    Context c = context();
    // Through the pipeline, on oauth-profile's route (which reads the session cookie).
    Program program{"oauth-profile", ""};
    program.routes = {route("profile")};
    return handle_request(program,
                          Request({{"REQUEST_METHOD", "GET"},
                                   {"SCRIPT_NAME", "/auth/profile"},
                                   {"QUERY_STRING", query},
                                   {"HTTP_COOKIE", "__Host-oauth_session=" + cookie_}}),
                          c);
  };
  Response plain = get("");
  EXPECT_EQ(plain.status, 200);
  EXPECT_NE(plain.body.find(R"("name":"Ann")"), std::string::npos) << plain.body;
  EXPECT_TRUE(http_.requests.empty());
  Response fresh = get("refresh=1");
  EXPECT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_NE(fresh.body.find(R"("name":"Ann Renamed")"), std::string::npos) << fresh.body;
  EXPECT_NE(fresh.body.find(R"("expires_at":)" + std::to_string(now_ + 3600)), std::string::npos)
      << fresh.body;
  EXPECT_EQ(fresh.body.find("at-NEW"), std::string::npos);
  EXPECT_EQ(http_.requests.size(), 2u);
  EXPECT_EQ(get("refresh=yes").status, 400);
  EXPECT_EQ(get("refresh=0").status, 200);
  EXPECT_EQ(http_.requests.size(), 2u);
  // The session ended at the provider: 401 JSON.
  ASSERT_TRUE(auth().delete_session(cookie_).ok());
  Response gone = get("refresh=1");
  EXPECT_EQ(gone.status, 401);
}

// ---- oauth-check with pass_access_token ------------------------------------------

TEST_F(Refresh, CheckWithoutPassAccessTokenIsOneReadAndDecodesNoToken) {
  // A record whose secrets' line is unreadable: a check that decoded it would find no
  // session (401); one that reads the identity only does not notice.
  auto store_broken = [&](const std::string& provider) {
    Session s = session(3600);
    s.profile.provider = provider;
    std::string record = encode_session(s);
    record = record.substr(0, record.find('\n')) + "\n{\"access_token\": not json";
    ASSERT_TRUE(put_sealed(store_, keys_, auth().session_key(cookie_), record, 3600s).ok());
  };
  store_broken("github"); // github has no pass_access_token
  long before = store_.reads();
  Response ok = check_request();
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(*ok.header("X-Auth-Provider"), "github");
  EXPECT_FALSE(ok.header("X-Auth-Access-Token"));
  EXPECT_FALSE(ok.header("X-Auth-Access-Token-Expires"));
  EXPECT_FALSE(ok.header("Variable-AUTH_ACCESS_TOKEN"));
  EXPECT_EQ(store_.reads() - before, 1) << "one Redis round trip";
  EXPECT_TRUE(http_.requests.empty());
  // The same record for corp (pass_access_token = true) has its secrets decoded: unreadable.
  store_broken("corp");
  before = store_.reads();
  EXPECT_EQ(check_request().status, 401);
  EXPECT_EQ(store_.reads() - before, 1) << "still one round trip";
}

TEST_F(Refresh, CheckHandsOnAValidTokenWithItsExpiryAndNoCall) {
  stored_session(3600);
  long before = store_.reads();
  Response r = check_request();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(*r.header("X-Auth-Access-Token"), "at-OLD");
  EXPECT_EQ(*r.header("X-Auth-Access-Token-Expires"), std::to_string(now_ + 3600));
  EXPECT_EQ(*r.header("Variable-AUTH_ACCESS_TOKEN"), "at-OLD");
  EXPECT_EQ(*r.header("Variable-AUTH_ACCESS_TOKEN_EXPIRES"), std::to_string(now_ + 3600));
  EXPECT_EQ(*r.header("X-Auth-User"), "ann");
  EXPECT_EQ(store_.reads() - before, 1);
  EXPECT_TRUE(http_.requests.empty());
  // A token whose expiry the provider never said: the header is there, empty.
  ASSERT_TRUE(auth().put_session(cookie_, session(0), 3600s).ok());
  Response unknown = check_request();
  ASSERT_EQ(unknown.status, 200);
  EXPECT_EQ(*unknown.header("X-Auth-Access-Token"), "at-OLD");
  EXPECT_EQ(*unknown.header("X-Auth-Access-Token-Expires"), "");
  EXPECT_TRUE(http_.requests.empty());
}

TEST_F(Refresh, CheckRefreshesAnExpiringTokenFirstAndLogsNoToken) {
  stored_session(30);
  http_.on_json(kCorpToken, 200, rotated("at-NEW", "rt-NEW"));
  Log log("oauth-check", LogLevel::debug, LogFormat::text);
  testutil::LogLines lines;
  lines.capture(log);
  Response r = check_request(log);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(*r.header("X-Auth-Access-Token"), "at-NEW");
  EXPECT_EQ(*r.header("X-Auth-Access-Token-Expires"), std::to_string(now_ + 3600));
  EXPECT_EQ(http_.requests.size(), 1u);
  ASSERT_TRUE(stored());
  EXPECT_EQ(stored()->tokens.refresh_token, "rt-NEW");
  EXPECT_FALSE(lock_value());
  // The next check uses the stored token: no second refresh.
  EXPECT_EQ(*check_request(log).header("X-Auth-Access-Token"), "at-NEW");
  EXPECT_EQ(http_.requests.size(), 1u);
  ASSERT_FALSE(lines.lines().empty());
  for (const char* secret : {"at-NEW", "rt-NEW", "at-OLD", "rt-OLD"})
    EXPECT_EQ(lines.all().find(secret), std::string::npos) << secret << " in\n" << lines.all();
}

TEST_F(Refresh, CheckWhoseRefreshEndsTheSessionIs401WithTheWayBack) {
  stored_session(30);
  http_.on_json(kCorpToken, 400, R"({"error":"invalid_grant"})");
  Response r = check_request();
  EXPECT_EQ(r.status, 401);
  ASSERT_TRUE(r.header("X-Auth-Redirect"));
  EXPECT_NE(r.header("X-Auth-Redirect")->find("return_to=%2Fprivate%2F"), std::string::npos);
  EXPECT_FALSE(r.header("X-Auth-Access-Token"));
  EXPECT_FALSE(stored());
}

TEST_F(Refresh, CheckWhoseRefreshFailsHandsOnTheOldTokenWhileValidThen503) {
  stored_session(30);
  http_.on_json(kCorpToken, 503, "{}");
  Response still = check_request();
  ASSERT_EQ(still.status, 200) << "the old token is good for 30 s more";
  EXPECT_EQ(*still.header("X-Auth-Access-Token"), "at-OLD");
  EXPECT_EQ(http_.requests.size(), 1u);
  // Expired and the provider still failing: 503 (oauth-check's only 5xx), the session kept.
  clock_.advance(31s);
  Response down = check_request();
  EXPECT_EQ(down.status, 503);
  EXPECT_FALSE(down.header("X-Auth-Access-Token"));
  EXPECT_EQ(http_.requests.size(), 2u);
  ASSERT_TRUE(stored());
  EXPECT_EQ(stored()->tokens.refresh_token, "rt-OLD");
}
