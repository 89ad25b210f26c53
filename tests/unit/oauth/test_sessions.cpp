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

namespace {

// A session with every field set, tokens of OpenID Connect size.
// The identity both tests' sessions share.
Session ann() {
  Session s;
  s.profile.provider = "corp";
  s.profile.id = "u1";
  s.profile.login = "ann";
  s.profile.name = "Ann";
  s.profile.email = "ann@example.com";
  s.created = 1700000000;
  s.expires_at = 1700086400;
  s.orgs = {"acme", "octo-org"};
  return s;
}

Session full_session() {
  Session s = ann();
  s.profile.hd = "example.com";
  s.tokens.access_token = "at-" + std::string(1000, 'a');
  s.tokens.token_type = "Bearer";
  s.tokens.refresh_token = "rt-" + std::string(600, 'r');
  s.tokens.id_token = "eyJ.ID." + std::string(900, 'i');
  s.tokens.scope = "openid profile";
  s.tokens.expires_at = 1700003600;
  s.tokens.refresh_expires_at = 1700086400;
  return s;
}

void expect_same_identity(const Session& got, const Session& want) {
  EXPECT_EQ(profile_json(got.profile), profile_json(want.profile));
  EXPECT_EQ(got.created, want.created);
  EXPECT_EQ(got.expires_at, want.expires_at);
  EXPECT_EQ(got.orgs, want.orgs);
  EXPECT_EQ(got.tokens.expires_at, want.tokens.expires_at);
  EXPECT_EQ(got.tokens.scope, want.tokens.scope);
}

void expect_same_tokens(const TokenSet& got, const TokenSet& want) {
  EXPECT_EQ(got.access_token, want.access_token);
  EXPECT_EQ(got.token_type, want.token_type);
  EXPECT_EQ(got.refresh_token, want.refresh_token);
  EXPECT_EQ(got.id_token, want.id_token);
  EXPECT_EQ(got.refresh_expires_at, want.refresh_expires_at);
}

void expect_no_secrets(const Session& s) {
  EXPECT_FALSE(s.tokens_read);
  EXPECT_EQ(s.tokens.access_token, "");
  EXPECT_EQ(s.tokens.refresh_token, "");
  EXPECT_EQ(s.tokens.id_token, "");
  EXPECT_EQ(s.tokens.token_type, "");
}

// Exactly what the previous release (format 1) wrote for a session; they live on in Redis.
const char* const kFormat1Record =
    R"({"v":1,"profile":{"provider":"corp","id":"u1","login":"ann","name":"Ann","email":"ann@example.com",)"
    R"("avatar_url":null},"tokens":{"access_token":"at-OLD","token_type":"Bearer","refresh_token":"rt-OLD",)"
    R"("scope":"openid profile","id_token":"h.p.s","expires_at":1700003600,"refresh_expires_at":1700086400},)"
    R"("created":1700000000,"expires_at":1700086400,"orgs":["acme","octo-org"]})";

} // namespace

TEST(Sessions, RecordsOfThePreviousFormatAreStillRead) {
  testutil::MemoryStore store;
  Keys k = keys();
  AuthStore auth(store, k);
  std::string key = auth.session_key("cookie");
  ASSERT_TRUE(
      store.set(key, aes256gcm_seal(k.encryption, kFormat1Record, key), std::chrono::seconds(60)).ok());
  Session want = ann();
  want.tokens = {"at-OLD", "Bearer", "rt-OLD", "h.p.s", "openid profile", 1700003600, 1700086400, ""};

  auto all = auth.get_session("cookie");
  ASSERT_TRUE(all.ok() && all->has_value());
  expect_same_identity(**all, want);
  expect_same_tokens((*all)->tokens, want.tokens);
  EXPECT_TRUE((*all)->tokens_read);

  SessionConfig config;
  auto identity = auth.use_session("cookie", config, 1700000100, SessionPart::identity);
  ASSERT_TRUE(identity.ok() && identity->has_value());
  expect_same_identity(**identity, want);
  expect_no_secrets(**identity);

  // Written back (a refresh), it takes the current format and reads the same.
  ASSERT_TRUE(auth.put_session("cookie", **all, std::chrono::seconds(60)).ok());
  auto again = auth.get_session("cookie");
  ASSERT_TRUE(again.ok() && again->has_value());
  expect_same_identity(**again, want);
  expect_same_tokens((*again)->tokens, want.tokens);
}

TEST(Sessions, RecordRoundTripsWholeAndItsIdentityLineHoldsNoToken) {
  Session s = full_session();
  std::string text = encode_session(s);
  size_t newline = text.find('\n');
  ASSERT_NE(newline, std::string::npos);
  std::string identity_line = text.substr(0, newline);
  for (const std::string* secret : {&s.tokens.access_token, &s.tokens.refresh_token, &s.tokens.id_token})
    EXPECT_EQ(identity_line.find(*secret), std::string::npos) << "secrets are on the second line only";

  auto all = decode_session(text);
  ASSERT_TRUE(all);
  expect_same_identity(*all, s);
  expect_same_tokens(all->tokens, s.tokens);
  EXPECT_EQ(all->profile.hd, "example.com");
  EXPECT_TRUE(all->tokens_read);

  auto identity = decode_session(text, SessionPart::identity);
  ASSERT_TRUE(identity);
  expect_same_identity(*identity, s);
  expect_no_secrets(*identity);

  Session bare; // no token fields, no orgs
  bare.profile.provider = "github";
  bare.profile.id = "1";
  auto back = decode_session(encode_session(bare));
  ASSERT_TRUE(back);
  expect_same_identity(*back, bare);
  expect_same_tokens(back->tokens, bare.tokens);
}

TEST(Sessions, MalformedOrUnknownRecordsAreAbsent) {
  std::string text = encode_session(full_session());
  std::string identity_line = text.substr(0, text.find('\n'));
  EXPECT_FALSE(decode_session(identity_line)) << "tokens missing";
  EXPECT_FALSE(decode_session(identity_line, SessionPart::identity)) << "tokens missing";
  EXPECT_FALSE(decode_session(identity_line + "\n{\"access_token\":")) << "tokens cut short";
  EXPECT_FALSE(decode_session(text + "{}")) << "a third document";
  EXPECT_FALSE(decode_session(std::string(kFormat1Record) + "\n{}")) << "format 1 is one document";
  std::string later = text;
  later.replace(later.find("\"v\":2"), 5, "\"v\":3");
  EXPECT_FALSE(decode_session(later)) << "a later format";
  EXPECT_FALSE(decode_session(later, SessionPart::identity));
  EXPECT_FALSE(decode_session(""));
  EXPECT_FALSE(decode_session("[]", SessionPart::identity));
}

// A full session stored under "cookie".
class StoredSession : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(auth.put_session("cookie", full_session(), std::chrono::seconds(60)).ok());
  }
  testutil::MemoryStore store;
  Keys k = keys();
  AuthStore auth{store, k};
  SessionConfig config;
};

TEST_F(StoredSession, ATamperedRecordIsAbsent) {
  std::string key = auth.session_key("cookie");
  std::string sealed = **store.get(key);
  for (size_t at : {size_t(0), sealed.size() / 2, sealed.size() - 1}) { // nonce, body, tag
    std::string bad = sealed;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    ASSERT_TRUE(store.set(key, bad, std::chrono::seconds(60)).ok());
    auto all = auth.get_session("cookie");
    ASSERT_TRUE(all.ok());
    EXPECT_FALSE(all->has_value()) << "byte " << at;
    auto identity = auth.use_session("cookie", config, 1700000100, SessionPart::identity);
    ASSERT_TRUE(identity.ok());
    EXPECT_FALSE(identity->has_value()) << "byte " << at;
  }
  ASSERT_TRUE(store.set(key, sealed.substr(0, sealed.size() - 1), std::chrono::seconds(60)).ok());
  EXPECT_FALSE(auth.use_session("cookie", config, 1700000100, SessionPart::identity)->has_value());
}

TEST_F(StoredSession, ASessionReadWithoutItsTokensIsNotWrittenBack) {
  auto identity = auth.use_session("cookie", config, 1700000100, SessionPart::identity);
  ASSERT_TRUE(identity.ok() && identity->has_value());
  auto put = auth.put_session("cookie", **identity, std::chrono::seconds(60));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().kind, ErrorKind::internal);
  auto kept = auth.get_session("cookie");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  expect_same_tokens((*kept)->tokens, full_session().tokens);
}

// oauth-check's read: the part chosen from the identity, in the one round trip.
TEST_F(StoredSession, ThePartCanBeChosenPerSessionInOneRead) {
  std::string seen_provider;
  long reads = store.reads();
  auto identity = auth.use_session("cookie", config, 1700000100, [&](const Session& s) {
    seen_provider = s.profile.provider;
    EXPECT_FALSE(s.tokens_read) << "the chooser sees the identity only";
    return SessionPart::identity;
  });
  ASSERT_TRUE(identity.ok() && identity->has_value());
  EXPECT_EQ(seen_provider, full_session().profile.provider);
  EXPECT_FALSE((*identity)->tokens_read);
  EXPECT_TRUE((*identity)->tokens.access_token.empty());
  expect_same_identity(**identity, full_session());
  auto all = auth.use_session("cookie", config, 1700000100, [](const Session&) { return SessionPart::all; });
  ASSERT_TRUE(all.ok() && all->has_value());
  EXPECT_TRUE((*all)->tokens_read);
  expect_same_tokens((*all)->tokens, full_session().tokens);
  EXPECT_EQ(store.reads() - reads, 2) << "one read each";
  // Past its absolute end it is absent and deleted, whichever part was asked for.
  auto late = auth.use_session("cookie", config, full_session().expires_at,
                               [](const Session&) { return SessionPart::all; });
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->has_value());
  EXPECT_FALSE(store.peek(auth.session_key("cookie")));
}

TEST_F(StoredSession, TakingASessionReadsAndRemovesItInOneStep) {
  auto taken = auth.take_session("cookie");
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(taken->found);
  ASSERT_TRUE(taken->session.has_value());
  EXPECT_EQ(taken->session->tokens.access_token, full_session().tokens.access_token);
  EXPECT_FALSE(store.get(auth.session_key("cookie"))->has_value());
  auto again = auth.take_session("cookie");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->found);
  EXPECT_FALSE(again->session.has_value());
}

TEST_F(StoredSession, TakingAnUnreadableSessionRemovesItAndSaysItWasThere) {
  std::string key = auth.session_key("cookie");
  ASSERT_TRUE(store.set(key, "not sealed with our key", std::chrono::seconds(60)).ok());
  auto taken = auth.take_session("cookie");
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(taken->found);
  EXPECT_FALSE(taken->session.has_value());
  EXPECT_FALSE(store.get(key)->has_value());
}
