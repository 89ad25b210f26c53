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
