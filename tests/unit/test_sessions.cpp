#include "sessions.hpp"

#include <gtest/gtest.h>

#include "memory_store.hpp"

using namespace oauthfcgi;

namespace {
Keys keys() {
  return derive_keys(std::string(32, 'k'));
}
} // namespace

TEST(Sessions, StateIsTakenOnceAndKeyedByItsMacNotItsValue) {
  testutil::MemoryStore store;
  Keys k = keys();
  AuthStore auth(store, k);
  LoginState login{"github", "bindmac", "verifier", "n0nce", "/back", 1};
  ASSERT_TRUE(auth.put_state("STATEVALUE", login).ok());
  EXPECT_EQ(auth.state_key("STATEVALUE").find("STATEVALUE"), std::string::npos);
  auto raw = store.get(auth.state_key("STATEVALUE"));
  ASSERT_TRUE(raw->has_value());
  EXPECT_EQ((**raw).find("verifier"), std::string::npos) << "state records are sealed";
  auto first = auth.take_state("STATEVALUE");
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->provider, "github");
  EXPECT_EQ((*first)->return_to, "/back");
  auto second = auth.take_state("STATEVALUE");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value());
}

TEST(Sessions, SessionRoundTripsSealedAndExpiresWithItsTtl) {
  testutil::MemoryStore store;
  Keys k = keys();
  AuthStore auth(store, k);
  Session s;
  s.profile.provider = "github";
  s.profile.id = "1";
  s.profile.login = "octocat";
  s.tokens.access_token = "gho_ACCESS";
  s.created = 5;
  ASSERT_TRUE(auth.put_session("COOKIE", s, std::chrono::seconds(60)).ok());
  auto raw = store.get(auth.session_key("COOKIE"));
  EXPECT_EQ((**raw).find("gho_ACCESS"), std::string::npos);
  auto got = auth.get_session("COOKIE");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->tokens.access_token, "gho_ACCESS");
  EXPECT_EQ((*got)->profile.login, "octocat");
  store.advance(std::chrono::seconds(61));
  EXPECT_FALSE(auth.get_session("COOKIE")->has_value());
}

TEST(Sessions, ARecordMovedToAnotherKeyOrReadWithAnotherSecretIsAbsent) {
  testutil::MemoryStore store;
  Keys k = keys();
  AuthStore auth(store, k);
  Session s;
  s.profile.provider = "p";
  s.profile.id = "1";
  ASSERT_TRUE(auth.put_session("A", s, std::chrono::seconds(60)).ok());
  auto sealed = store.get(auth.session_key("A"));
  ASSERT_TRUE(store.set(auth.session_key("B"), **sealed, std::chrono::seconds(60)).ok());
  EXPECT_FALSE(auth.get_session("B")->has_value());
  Keys other = derive_keys(std::string(32, 'o'));
  AuthStore auth2(store, other);
  EXPECT_FALSE(auth2.get_session("A")->has_value());
}

TEST(Sessions, StoreFailureIsAnErrorNotAMiss) {
  testutil::MemoryStore store;
  Keys k = keys();
  AuthStore auth(store, k);
  store.set_unavailable(true);
  auto got = auth.get_session("X");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().kind, ErrorKind::store_unavailable);
  EXPECT_FALSE(auth.take_state("X").ok());
}

TEST(Sessions, IdleTimeoutSlidesOnUseAndEndsAnUnusedSession) {
  testutil::MemoryStore store;
  Keys k = keys();
  AuthStore auth(store, k);
  SessionConfig config;
  config.ttl = 3600;
  config.idle_timeout = 300;
  Session s;
  s.profile.provider = "github";
  s.profile.id = "1";
  s.created = 1000;
  s.expires_at = 1000 + config.ttl;
  s.orgs = {"acme", "octo-org"};
  ASSERT_EQ(session_ttl(s, config, 1000), std::chrono::seconds(300));
  ASSERT_TRUE(auth.put_session("cookie", s, session_ttl(s, config, 1000)).ok());
  for (int minute = 1; minute <= 8; ++minute) { // used every 4 minutes: never idle for 5
    store.advance(std::chrono::seconds(240));
    auto used = auth.use_session("cookie", config, 1000 + minute * 240);
    ASSERT_TRUE(used.ok() && used->has_value()) << "use " << minute;
    EXPECT_EQ((*used)->orgs, s.orgs);
  }
  store.advance(std::chrono::seconds(301));
  auto idle = auth.use_session("cookie", config, 1000 + 8 * 240 + 301);
  ASSERT_TRUE(idle.ok());
  EXPECT_FALSE(idle->has_value()) << "five idle minutes end it";
}

TEST(Sessions, AbsoluteEndHoldsEvenWhileInUse) {
  testutil::MemoryStore store;
  Keys k = keys();
  AuthStore auth(store, k);
  SessionConfig config;
  config.ttl = 600;
  config.idle_timeout = 300;
  Session s;
  s.profile.provider = "github";
  s.profile.id = "1";
  s.expires_at = 1600;
  ASSERT_TRUE(auth.put_session("cookie", s, session_ttl(s, config, 1000)).ok());
  store.advance(std::chrono::seconds(250));
  ASSERT_TRUE(auth.use_session("cookie", config, 1250)->has_value());
  store.advance(std::chrono::seconds(250));
  ASSERT_TRUE(auth.use_session("cookie", config, 1500)->has_value());
  EXPECT_EQ(session_ttl(s, config, 1500), std::chrono::seconds(100)) << "never past the absolute end";
  store.advance(std::chrono::seconds(100));
  auto late = auth.use_session("cookie", config, 1600);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->has_value());
  EXPECT_FALSE(store.get(auth.session_key("cookie"))->has_value()) << "and it is deleted";
}
