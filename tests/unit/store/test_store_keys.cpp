// The Redis key names and sealed values (store_keys.cpp): names fixed byte for byte
// (a changed name loses every stored session and token), and no secret in them.
#include "store_keys.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "memory_store.hpp"

using namespace oauthfcgi;
using namespace std::chrono_literals;

namespace {

Keys keys() {
  return derive_keys(std::string(32, 'k'));
}

std::string mac(const Keys& k, std::string_view input) {
  return base64url_encode(hmac_sha256(k.store_key, input));
}

TEST(StoreKeys, StatesSessionsAndTheirLocksAreNamedByAMacOfTheSecret) {
  const Keys k = keys();
  using namespace std::string_literals;
  EXPECT_EQ(state_key(k, "S"), "state:" + mac(k, "state\0S"s));
  EXPECT_EQ(pending_key(k, "B"), "pending:" + mac(k, "pending\0B"s));
  EXPECT_EQ(session_key(k, "C"), "session:" + mac(k, "session\0C"s));
  EXPECT_EQ(session_lock_key(k, "C"), "lock:session:" + mac(k, "session\0C"s));
  EXPECT_EQ(session_key(k, "STATEVALUE").find("STATEVALUE"), std::string::npos);
  EXPECT_NE(session_key(derive_keys(std::string(32, 'x')), "C"), session_key(k, "C"))
      << "another secret, other names";
}

TEST(StoreKeys, OidcDocumentsAreNamedByAHashOfTheirUrl) {
  const std::string url = "https://sso.example.com/jwks";
  const std::string hash = base64url_encode(sha256(url));
  EXPECT_EQ(discovery_key("https://sso.example.com"),
            "oidc:discovery:" + base64url_encode(sha256("https://sso.example.com")));
  EXPECT_EQ(jwks_key(url), "oidc:jwks:" + hash);
  EXPECT_EQ(jwks_refetch_key(url), "oidc:jwks_refetch:" + hash);
}

TEST(StoreKeys, AClientsKeysShareOneMacOfItsIdentity) {
  const Keys k = keys();
  ClientConfig c;
  c.name = "api";
  c.token_url = "https://t/token";
  c.client_id = "svc";
  c.scope = {"read", "write"};
  using namespace std::string_literals;
  const std::string m = mac(k, "client_token:api\0https://t/token\0svc\0read write"s);
  ClientTokenKeys names = client_token_keys(k, c);
  EXPECT_EQ(names.token, "client_token:" + m);
  EXPECT_EQ(names.lock, "lock:client_token:" + m);
  EXPECT_EQ(names.error, "client_token_error:" + m);
}

TEST(StoreKeys, ASealedValueOpensOnlyUnderItsOwnKey) {
  testutil::MemoryStore store;
  const Keys k = keys();
  ASSERT_TRUE(put_sealed(store, k, "a", "secret text", 60s).ok());
  auto raw = store.peek("a");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->find("secret"), std::string::npos) << "sealed at rest";
  EXPECT_EQ(get_sealed(store, k, "a").value(), std::optional<std::string>("secret text"));
  ASSERT_TRUE(store.set("b", *raw, 60s).ok());
  EXPECT_EQ(get_sealed(store, k, "b").value(), std::nullopt) << "moved to another key: unreadable";
  EXPECT_EQ(get_sealed(store, derive_keys(std::string(32, 'x')), "a").value(), std::nullopt)
      << "another secret: unreadable";
  EXPECT_EQ(get_sealed(store, k, "absent").value(), std::nullopt);
  EXPECT_EQ(open_found(k, "a", store.take("a")).value(), std::optional<std::string>("secret text"));
  store.set_unavailable(true);
  EXPECT_FALSE(get_sealed(store, k, "a").ok()) << "a failed lookup stays an error";
}

} // namespace
