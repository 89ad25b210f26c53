// OpenID Connect without a server: discovery documents good and bad, the cache, and
// every ID token claim the client must refuse.
#include "oidc.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <map>
#include <memory>
#include <thread>

#include "crypto.hpp"
#include "fake_http.hpp"
#include "memory_store.hpp"
#include "store_keys.hpp"

using namespace oauthfcgi;
using testutil::FakeHttp;
using testutil::MemoryStore;

namespace {

const char* kIssuer = "https://sso.example.com/realms/main";
// The keys the Redis copies are sealed with (derived from secret_file in the programs).
const Keys kKeys = derive_keys(std::string(32, 'k'));

ProviderConfig oidc_config() {
  ProviderConfig c;
  c.name = "sso";
  c.type = ProviderType::oidc;
  c.client_id = "oauth-fcgi";
  c.client_secret = "s3cret";
  c.issuer = kIssuer;
  return c;
}

std::string discovery(const std::string& extra = "", const std::string& issuer = kIssuer) {
  return R"({"issuer":")" + issuer + R"(",)" +
         R"("authorization_endpoint":"https://sso.example.com/auth","token_endpoint":"https://sso.example.com/token",)"
         R"("userinfo_endpoint":"https://sso.example.com/userinfo","jwks_uri":"https://sso.example.com/jwks",)"
         R"("response_types_supported":["code"])" +
         extra + "}";
}

Result<void> apply_doc(const ProviderConfig& c, const std::string& doc, Provider* out = nullptr) {
  auto p = resolve_provider(c);
  auto d = json_parse_object(doc);
  if (!d.ok()) return d.error();
  auto r = apply_discovery(*p, d->get());
  if (out) *out = *p;
  return r;
}

std::string claims(const std::string& extra = "", long iat = 1000, long exp = 2000) {
  return R"({"iss":")" + std::string(kIssuer) + R"(","sub":"u1","aud":"oauth-fcgi","nonce":"n0nce","iat":)" +
         std::to_string(iat) + R"(,"exp":)" + std::to_string(exp) + extra + "}";
}

Result<void> check(const std::string& text, long now = 1500, const std::string& nonce = "n0nce") {
  auto c = json_parse_object(text);
  if (!c.ok()) return c.error();
  return check_id_token_claims(c->get(), kIssuer, "oauth-fcgi", nonce, now);
}

const std::string kDiscoveryUrl = std::string(kIssuer) + "/.well-known/openid-configuration";

// A MemoryStore that counts the commands it is sent, as redis-cli monitor would.
class CountingStore : public MemoryStore {
public:
  Lookup get(std::string_view key) override { return ++counts["GET"], MemoryStore::get(key); }
  Result<void> set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) override {
    return ++counts["SET"], MemoryStore::set(key, value, ttl);
  }
  Result<std::optional<std::chrono::milliseconds>> ttl(std::string_view key) override {
    return ++counts["PTTL"], MemoryStore::ttl(key);
  }
  Result<bool> remove(std::string_view key) override { return ++counts["DEL"], MemoryStore::remove(key); }
  int commands() const {
    int n = 0;
    for (const auto& [name, count] : counts)
      n += count;
    return n;
  }
  std::map<std::string, int> counts;
};

// A process's DiscoveryCache on a clock the test moves (with the store's).
struct ProcessCache {
  DiscoveryCache::Clock::duration offset{};
  DiscoveryCache cache{[this] { return DiscoveryCache::Clock::now() + offset; }};
};

// Moves the store's and each process's clock by `by`.
void advance(MemoryStore& store, std::chrono::milliseconds by, std::initializer_list<ProcessCache*> caches) {
  store.advance(by);
  for (ProcessCache* c : caches)
    c->offset += by;
}

} // namespace

TEST(OidcDiscovery, FillsEndpointsAndDefaults) {
  ProviderConfig c = oidc_config();
  Provider p;
  ASSERT_TRUE(apply_doc(c, discovery(), &p).ok());
  EXPECT_EQ(p.authorize_url, "https://sso.example.com/auth");
  EXPECT_EQ(p.token_url, "https://sso.example.com/token");
  EXPECT_EQ(p.userinfo_url, "https://sso.example.com/userinfo");
  EXPECT_EQ(p.jwks_uri, "https://sso.example.com/jwks");
  EXPECT_EQ(p.id_token_algs, (std::vector<std::string>(1, "RS256"))) << "RS256 by default";
  EXPECT_TRUE(p.basic_auth) << "client_secret_basic when the server doesn't say";
  EXPECT_FALSE(p.iss_parameter_supported);
  EXPECT_EQ(p.scope.front(), "openid");
}

TEST(OidcDiscovery, ConfigEndpointsWinOverTheDocument) {
  ProviderConfig c = oidc_config();
  c.token_url = "https://override.example.com/token";
  Provider p;
  ASSERT_TRUE(apply_doc(c, discovery(), &p).ok());
  EXPECT_EQ(p.token_url, "https://override.example.com/token");
}

TEST(OidcDiscovery, RefusesAnotherIssuerPlainHttpAndMissingEndpoints) {
  ProviderConfig c = oidc_config();
  EXPECT_FALSE(apply_doc(c, discovery("", "https://evil.example.com/realms/main")).ok());
  EXPECT_FALSE(apply_doc(c, discovery("", std::string(kIssuer) + "/")).ok()) << "exact match, even the slash";
  EXPECT_FALSE(apply_doc(c, R"({"issuer":")" + std::string(kIssuer) +
                                R"(","authorization_endpoint":"https://a","jwks_uri":"https://j"})")
                   .ok())
      << "no token_endpoint";
  std::string http = discovery();
  http.replace(http.find("https://sso.example.com/token"), 29, "http://sso.example.com/token");
  EXPECT_FALSE(apply_doc(c, http).ok());
}

TEST(OidcDiscovery, KeepsOnlyAlgorithmsWeTrust) {
  ProviderConfig c = oidc_config();
  Provider p;
  ASSERT_TRUE(
      apply_doc(c, discovery(R"(,"id_token_signing_alg_values_supported":["none","HS256","ES256","RS256"])"),
                &p)
          .ok());
  EXPECT_EQ(p.id_token_algs, (std::vector<std::string>{"ES256", "RS256"}));
  EXPECT_FALSE(apply_doc(c, discovery(R"(,"id_token_signing_alg_values_supported":["none","HS256"])")).ok());
}

TEST(OidcDiscovery, ClientAuthFollowsTheServer) {
  ProviderConfig c = oidc_config();
  Provider p;
  ASSERT_TRUE(
      apply_doc(c, discovery(R"(,"token_endpoint_auth_methods_supported":["client_secret_post"])"), &p).ok());
  EXPECT_FALSE(p.basic_auth);
  ASSERT_TRUE(apply_doc(c, discovery(R"(,"authorization_response_iss_parameter_supported":true)"), &p).ok());
  EXPECT_TRUE(p.iss_parameter_supported);
  EXPECT_FALSE(
      apply_doc(c, discovery(R"(,"token_endpoint_auth_methods_supported":["private_key_jwt"])")).ok());
}

TEST(OidcDiscovery, IsCachedAndAStaleCopyIsReplaced) {
  ProviderConfig c = oidc_config();
  MemoryStore store;
  FakeHttp http;
  http.on_json(kDiscoveryUrl, 200, discovery());
  DiscoveryCache first, second; // two processes on one Redis
  auto p = resolve_provider(c);
  ASSERT_TRUE(discover(*p, store, kKeys, http, first).ok());
  auto again = resolve_provider(c);
  ASSERT_TRUE(discover(*again, store, kKeys, http, second).ok());
  EXPECT_EQ(http.requests.size(), 1u) << "the second process reads it from Redis";
  EXPECT_EQ(again->token_url, "https://sso.example.com/token");
  // A cached document that no longer fits is fetched again, once.
  MemoryStore poisoned;
  FakeHttp http2;
  http2.on_json(kDiscoveryUrl, 200, discovery());
  DiscoveryCache writer, reader;
  auto q = resolve_provider(c);
  ASSERT_TRUE(discover(*q, poisoned, kKeys, http2, writer).ok());
  for (const auto& key : poisoned.keys())
    ASSERT_TRUE(
        put_sealed(poisoned, kKeys, key, discovery("", "https://other.example"), std::chrono::seconds(60))
            .ok());
  auto r = resolve_provider(c);
  EXPECT_TRUE(discover(*r, poisoned, kKeys, http2, reader).ok());
  EXPECT_EQ(http2.requests.size(), 2u);
  EXPECT_EQ(r->token_url, "https://sso.example.com/token");
}

TEST(OidcDiscovery, SecondDiscoveryInAProcessSendsNoRedisCommand) {
  ProviderConfig c = oidc_config();
  CountingStore store;
  FakeHttp http;
  http.on_json(kDiscoveryUrl, 200, discovery(R"(,"authorization_response_iss_parameter_supported":true)"));
  DiscoveryCache cache;
  auto p = resolve_provider(c);
  ASSERT_TRUE(discover(*p, store, kKeys, http, cache).ok());
  EXPECT_EQ(store.counts, (std::map<std::string, int>{{"GET", 1}, {"SET", 1}}))
      << "a miss, then the fetch stored";
  store.counts.clear();
  for (int i = 0; i < 3; ++i) {
    auto again = resolve_provider(c);
    ASSERT_TRUE(discover(*again, store, kKeys, http, cache).ok());
    EXPECT_EQ(again->authorize_url, "https://sso.example.com/auth");
    EXPECT_EQ(again->token_url, "https://sso.example.com/token");
    EXPECT_EQ(again->jwks_uri, "https://sso.example.com/jwks");
    EXPECT_TRUE(again->iss_parameter_supported);
  }
  EXPECT_EQ(store.commands(), 0);
  EXPECT_EQ(http.requests.size(), 1u);

  // Another process finds it in Redis once (and asks how long it has left), then not again.
  DiscoveryCache other;
  for (int i = 0; i < 2; ++i) {
    auto q = resolve_provider(c);
    ASSERT_TRUE(discover(*q, store, kKeys, http, other).ok());
  }
  EXPECT_EQ(store.counts, (std::map<std::string, int>{{"GET", 1}, {"PTTL", 1}}));
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST(OidcDiscovery, AnExpiredEntryIsRefreshed) {
  ProviderConfig c = oidc_config();
  CountingStore store;
  FakeHttp http;
  std::string token_endpoint = "https://sso.example.com/token";
  http.on(kDiscoveryUrl, [&](const HttpRequest&) -> Result<HttpResponse> {
    std::string doc = discovery();
    doc.replace(doc.find("https://sso.example.com/token"), 29, token_endpoint);
    return HttpResponse{200, {{"content-type", "application/json"}}, doc};
  });
  ProcessCache process;
  auto p = resolve_provider(c);
  ASSERT_TRUE(discover(*p, store, kKeys, http, process.cache).ok());
  token_endpoint = "https://sso.example.com/token2"; // the server changes its document

  advance(store, kDiscoveryTtl - std::chrono::seconds(1), {&process});
  store.counts.clear();
  auto before = resolve_provider(c);
  ASSERT_TRUE(discover(*before, store, kKeys, http, process.cache).ok());
  EXPECT_EQ(before->token_url, "https://sso.example.com/token") << "still within the TTL";
  EXPECT_EQ(store.commands(), 0);

  advance(store, std::chrono::seconds(1), {&process}); // gone from Redis, so from the process
  auto after = resolve_provider(c);
  ASSERT_TRUE(discover(*after, store, kKeys, http, process.cache).ok());
  EXPECT_EQ(after->token_url, "https://sso.example.com/token2");
  EXPECT_EQ(store.counts, (std::map<std::string, int>{{"GET", 1}, {"SET", 1}}));
  EXPECT_EQ(http.requests.size(), 2u);
}

TEST(OidcDiscovery, AnEntryFromRedisLivesOnlyAsLongAsItsRedisCopy) {
  ProviderConfig c = oidc_config();
  MemoryStore store;
  FakeHttp http;
  http.on_json(kDiscoveryUrl, 200, discovery());
  ProcessCache writer, reader;
  auto p = resolve_provider(c);
  ASSERT_TRUE(discover(*p, store, kKeys, http, writer.cache).ok()); // Redis copy until 3600 s
  advance(store, std::chrono::seconds(3000), {&writer, &reader});
  ASSERT_TRUE(discover(*p, store, kKeys, http, reader.cache).ok()); // read at 3000 s: 600 s left
  EXPECT_EQ(http.requests.size(), 1u);
  advance(store, std::chrono::seconds(600), {&writer, &reader});
  EXPECT_EQ(writer.cache.find(kIssuer), nullptr);
  EXPECT_EQ(reader.cache.find(kIssuer), nullptr) << "not 3600 s from its read";
  ASSERT_TRUE(discover(*p, store, kKeys, http, reader.cache).ok());
  EXPECT_EQ(http.requests.size(), 2u);
}

TEST(OidcDiscovery, AnEntryThatDoesNotFitThisProviderIsFetchedAgainOnce) {
  // Two sections with one issuer; the server's document has no token_endpoint, which
  // only the first section makes up for.
  ProviderConfig with_token = oidc_config();
  with_token.token_url = "https://sso.example.com/token";
  ProviderConfig without = oidc_config();
  without.name = "sso2";
  const std::string token = R"("token_endpoint":"https://sso.example.com/token",)";
  std::string doc = discovery();
  doc.replace(doc.find(token), token.size(), "");
  CountingStore store;
  FakeHttp http;
  http.on_json(kDiscoveryUrl, 200, doc);
  DiscoveryCache cache;
  auto p = resolve_provider(with_token);
  ASSERT_TRUE(discover(*p, store, kKeys, http, cache).ok());
  EXPECT_EQ(cache.size(), 1u);
  auto q = resolve_provider(without);
  auto refused = discover(*q, store, kKeys, http, cache);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().reason.find("lacks token_endpoint"), std::string::npos) << refused.error().reason;
  EXPECT_EQ(http.requests.size(), 2u) << "fetched again, once";
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(store.keys().empty()) << "nothing refused is kept";
}

TEST(OidcDiscovery, TheCacheHoldsAFewIssuersAtMost) {
  MemoryStore store;
  FakeHttp http;
  DiscoveryCache cache(DiscoveryCache::Clock::now, 2);
  for (const char* realm : {"a", "b", "c"}) {
    std::string issuer = std::string("https://sso.example.com/realms/") + realm;
    http.on_json(issuer + "/.well-known/openid-configuration", 200, discovery("", issuer));
    ProviderConfig c = oidc_config();
    c.issuer = issuer;
    auto p = resolve_provider(c);
    ASSERT_TRUE(discover(*p, store, kKeys, http, cache).ok()) << realm;
  }
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.find("https://sso.example.com/realms/a"), nullptr) << "the one due soonest went";
  EXPECT_NE(cache.find("https://sso.example.com/realms/c"), nullptr);
}

TEST(OidcDiscovery, WorkerThreadsShareOneCache) {
  ProviderConfig c = oidc_config();
  MemoryStore store;
  FakeHttp http;
  http.on_json(kDiscoveryUrl, 200, discovery());
  DiscoveryCache cache;
  auto first = resolve_provider(c);
  ASSERT_TRUE(discover(*first, store, kKeys, http, cache).ok());
  std::vector<std::thread> workers;
  std::vector<int> failures(8, 0);
  for (int w = 0; w < 8; ++w)
    workers.emplace_back([&, w] {
      for (int i = 0; i < 200; ++i) {
        auto p = resolve_provider(c);
        if (!discover(*p, store, kKeys, http, cache).ok() || p->token_url != "https://sso.example.com/token")
          ++failures[w];
      }
    });
  for (auto& t : workers)
    t.join();
  EXPECT_EQ(failures, std::vector<int>(8, 0));
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST(OidcDiscovery, TransportAndShapeFailuresAreProviderErrors) {
  ProviderConfig c = oidc_config();
  MemoryStore store;
  FakeHttp http;
  http.on_answer(std::string(kIssuer) + "/.well-known/openid-configuration", 200,
                 {{"content-type", "text/html"}}, "<html>login</html>");
  auto p = resolve_provider(c);
  auto r = discover(*p, store, kKeys, http);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_TRUE(store.keys().empty()) << "nothing bad is cached";
}

// ---- a discovery document naming plain-http endpoints --------------------------------

// An https issuer on another host names http://127.0.0.1 for its token endpoint: the
// code and client secret would go in clear to whatever listens on this host.
TEST(OidcDiscovery, AnIssuerElsewhereMayNotNameLoopbackHttpEndpoints) {
  const std::string issuer = "https://op.example.test";
  for (const char* key :
       {"token_endpoint", "authorization_endpoint", "jwks_uri", "userinfo_endpoint", "revocation_endpoint"}) {
    std::map<std::string, std::string> urls = {{"authorization_endpoint", "https://op.example.test/auth"},
                                               {"token_endpoint", "https://op.example.test/token"},
                                               {"jwks_uri", "https://op.example.test/jwks"},
                                               {"userinfo_endpoint", "https://op.example.test/userinfo"},
                                               {"revocation_endpoint", "https://op.example.test/revoke"}};
    urls[key] = "http://127.0.0.1:8765/" + std::string(key);
    std::string doc = R"({"issuer":")" + issuer + R"(","response_types_supported":["code"])";
    for (const auto& [k, v] : urls)
      doc += ",\"" + k + "\":\"" + v + "\"";
    doc += "}";
    ProviderConfig c = oidc_config();
    c.issuer = issuer;
    MemoryStore store;
    FakeHttp http;
    http.on_json(issuer + "/.well-known/openid-configuration", 200, doc);
    DiscoveryCache cache;
    auto p = resolve_provider(c);
    auto r = discover(*p, store, kKeys, http, cache);
    ASSERT_FALSE(r.ok()) << key << " http://127.0.0.1 was accepted for an https issuer elsewhere";
    EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
    EXPECT_NE(r.error().reason.find(key), std::string::npos) << r.error().reason;
    EXPECT_NE(r.error().reason.find("https://"), std::string::npos) << r.error().reason;
    EXPECT_TRUE(p->token_url.empty()) << "nothing applied";
    for (const auto& req : http.requests)
      EXPECT_EQ(req.url.find("127.0.0.1"), std::string::npos) << "asked " << req.url;
    EXPECT_TRUE(store.keys().empty()) << "nothing refused is kept";
  }
}

// An issuer on this host (a server in a test, a local IdP) may use http:// on loopback.
TEST(OidcDiscovery, AnIssuerOnLoopbackMayNameLoopbackHttpEndpoints) {
  for (const std::string issuer : {"http://127.0.0.1:8765", "https://localhost:8765/realms/x"}) {
    std::string doc =
        R"({"issuer":")" + issuer +
        R"(","response_types_supported":["code"],)"
        R"("authorization_endpoint":"http://127.0.0.1:8765/auth",)"
        R"("token_endpoint":"http://localhost:8765/token","jwks_uri":"http://[::1]:8765/jwks"})";
    ProviderConfig c = oidc_config();
    c.issuer = issuer;
    MemoryStore store;
    FakeHttp http;
    http.on_json(issuer + "/.well-known/openid-configuration", 200, doc);
    DiscoveryCache cache;
    auto p = resolve_provider(c);
    auto r = discover(*p, store, kKeys, http, cache);
    ASSERT_TRUE(r.ok()) << issuer << ": " << r.error().reason;
    EXPECT_EQ(p->token_url, "http://localhost:8765/token");
  }
  // Loopback issuer or not, http:// to another host is never taken.
  std::string doc =
      R"({"issuer":"http://127.0.0.1:8765","authorization_endpoint":"http://127.0.0.1:8765/a",)"
      R"("token_endpoint":"http://op.example.test/token","jwks_uri":"http://127.0.0.1:8765/j"})";
  ProviderConfig c = oidc_config();
  c.issuer = "http://127.0.0.1:8765";
  EXPECT_FALSE(apply_doc(c, doc).ok());
}

// ---- the Redis copies are sealed: a value written by someone else is not trusted ------

// Whoever can write Redis points the cached discovery document's token_endpoint at
// their own host: the next sign-in would POST the code and the client secret there.
TEST(OidcDiscovery, AForgedDocumentInRedisIsRefetchedAndOverwritten) {
  ProviderConfig c = oidc_config();
  MemoryStore store;
  FakeHttp http;
  http.on_json(kDiscoveryUrl, 200, discovery());
  std::string forged = discovery();
  forged.replace(forged.find("https://sso.example.com/token"), 29, "https://evil.example.net/tok");
  forged.replace(forged.find("https://sso.example.com/jwks"), 28, "https://evil.example.net/jwk");
  const std::string key = discovery_key(kIssuer);
  ASSERT_TRUE(store.set(key, forged, std::chrono::seconds(3600)).ok());
  DiscoveryCache cache;
  auto p = resolve_provider(c);
  ASSERT_TRUE(discover(*p, store, kKeys, http, cache).ok());
  EXPECT_EQ(p->token_url, "https://sso.example.com/token") << "the forged document was used";
  EXPECT_EQ(p->jwks_uri, "https://sso.example.com/jwks");
  EXPECT_EQ(http.requests.size(), 1u) << "fetched from the provider instead";
  auto now_stored = store.peek(key);
  ASSERT_TRUE(now_stored);
  EXPECT_NE(*now_stored, forged) << "the forged copy was left in Redis";
  EXPECT_EQ(now_stored->find("evil.example.net"), std::string::npos);
  // The copy written back is the next reader's, without another fetch.
  DiscoveryCache other;
  auto q = resolve_provider(c);
  ASSERT_TRUE(discover(*q, store, kKeys, http, other).ok());
  EXPECT_EQ(q->token_url, "https://sso.example.com/token");
  EXPECT_EQ(http.requests.size(), 1u);
}

namespace {

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Pkey ed25519() {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
}

std::string ed_jwks(EVP_PKEY* key, const std::string& kid) {
  unsigned char pub[32];
  size_t len = sizeof pub;
  EXPECT_EQ(EVP_PKEY_get_raw_public_key(key, pub, &len), 1);
  return R"({"keys":[{"kty":"OKP","crv":"Ed25519","kid":")" + kid + R"(","x":")" +
         base64url_encode(std::string_view(reinterpret_cast<char*>(pub), len)) + "\"}]}";
}

std::string ed_id_token(EVP_PKEY* key, const std::string& kid, const std::string& payload) {
  std::string input = base64url_encode(R"({"alg":"EdDSA","typ":"JWT","kid":")" + kid + "\"}") + "." +
                      base64url_encode(payload);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key), 1);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, in, input.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size()),
            1);
  sig.resize(len);
  return input + "." + base64url_encode(sig);
}

} // namespace

// Whoever can write Redis replaces the cached JWKS with their own key (same kid) and
// signs an ID token for any user with it.
TEST(OidcJwks, AForgedKeySetInRedisIsNotTrusted) {
  Pkey real = ed25519(), attacker = ed25519();
  ProviderConfig c = oidc_config();
  auto p = resolve_provider(c);
  p->jwks_uri = "https://sso.example.com/jwks";
  p->id_token_algs = {"EdDSA"};
  MemoryStore store;
  FakeHttp http;
  http.on_json(p->jwks_uri, 200, ed_jwks(real.get(), "k1"));
  ASSERT_TRUE(
      store.set(jwks_key(p->jwks_uri), ed_jwks(attacker.get(), "k1"), std::chrono::seconds(3600)).ok());
  const long now = 1500;
  auto forged =
      verify_id_token(*p, store, kKeys, http, ed_id_token(attacker.get(), "k1", claims()), "n0nce", now);
  EXPECT_FALSE(forged.ok()) << "an ID token signed with the attacker's key was accepted";
  EXPECT_EQ(http.requests.size(), 1u) << "the key set is fetched from the provider";
  auto genuine =
      verify_id_token(*p, store, kKeys, http, ed_id_token(real.get(), "k1", claims()), "n0nce", now);
  EXPECT_TRUE(genuine.ok()) << genuine.error().reason;
  EXPECT_EQ(http.requests.size(), 1u) << "the sealed copy written back is used";
  auto stored = store.peek(jwks_key(p->jwks_uri));
  ASSERT_TRUE(stored);
  EXPECT_NE(*stored, ed_jwks(attacker.get(), "k1"));
}

TEST(IdTokenClaims, AGoodTokenPasses) {
  EXPECT_TRUE(check(claims()).ok());
  EXPECT_TRUE(check(claims(R"(,"azp":"oauth-fcgi")")).ok());
  EXPECT_TRUE(check(claims(), 2000 + kClockSkew - 1).ok()) << "a little skew is allowed";
}

TEST(IdTokenClaims, EachWrongClaimIsRefused) {
  auto refused = [](const std::string& text, long now = 1500, const std::string& nonce = "n0nce") {
    auto r = check(text, now, nonce);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.error().reason;
  };
  std::string base = claims();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_NE(refused(with(kIssuer, "https://evil.example")).find("iss"), std::string::npos);
  EXPECT_NE(refused(with(R"("aud":"oauth-fcgi")", R"("aud":"other")")).find("aud"), std::string::npos);
  EXPECT_NE(refused(with(R"("aud":"oauth-fcgi")", R"("aud":["oauth-fcgi","other"])")).find("azp"),
            std::string::npos);
  refused(with(R"("aud":"oauth-fcgi")", R"("aud":["oauth-fcgi","other"],"azp":"other")"));
  refused(claims(R"(,"azp":"other")"));
  EXPECT_NE(refused(base, 2000 + kClockSkew).find("expired"), std::string::npos);
  EXPECT_NE(refused(claims("", 1500 + kClockSkew + 1, 5000)).find("future"), std::string::npos);
  EXPECT_NE(refused(base, 1500, "another").find("nonce"), std::string::npos);
  refused(with(R"(,"nonce":"n0nce")", ""));
  refused(with(R"("sub":"u1",)", ""));
  refused(with(R"(,"exp":2000)", ""));
  refused(with(R"("iat":1000,)", ""));
  refused(with(R"("sub":"u1")", R"("sub":"")"));
  refused(with(R"("aud":"oauth-fcgi")", R"("aud":42)"));
}

// ---- oidc_profile: the ID token's claims and userinfo's answer together ----------------

namespace {

// The profile oidc_profile makes of `id_token_claims` and a userinfo answer `userinfo`.
Result<Profile> merged(const std::string& id_token_claims, const std::string& userinfo) {
  ProviderConfig c = oidc_config();
  auto p = resolve_provider(c);
  p->userinfo_url = "https://sso.example.com/userinfo";
  FakeHttp http;
  http.on_json(p->userinfo_url, 200, userinfo);
  TokenSet t;
  t.access_token = "at";
  auto claims_json = json_parse_object(id_token_claims);
  if (!claims_json.ok()) return claims_json.error();
  return oidc_profile(http, *p, t, claims_json->get());
}

} // namespace

// An email is unverified when any source says so: userinfo keeping quiet about it does
// not overrule an ID token that says false.
TEST(OidcProfile, AnIdTokenSayingUnverifiedIsNotOverruledByUserinfo) {
  const std::string unverified = claims(R"(,"email":"a@example.com","email_verified":false)");
  for (const char* userinfo : {R"({"sub":"u1","email":"a@example.com"})",
                               R"({"sub":"u1","email":"a@example.com","email_verified":true})",
                               R"({"sub":"u1","email":"b@example.com","email_verified":"true"})"}) {
    auto p = merged(unverified, userinfo);
    ASSERT_TRUE(p.ok()) << p.error().reason;
    EXPECT_EQ(p->email, std::nullopt) << userinfo;
  }
  auto said_as_string = merged(claims(R"(,"email":"a@example.com","email_verified":"false")"),
                               R"({"sub":"u1","email":"a@example.com"})");
  ASSERT_TRUE(said_as_string.ok());
  EXPECT_EQ(said_as_string->email, std::nullopt);
}

TEST(OidcProfile, AnEmailIsVerifiedWhenOneSourceSaysSoAndNoneSaysFalse) {
  auto from_id_token =
      merged(claims(R"(,"email":"a@example.com","email_verified":true)"), R"({"sub":"u1","name":"Ann"})");
  ASSERT_TRUE(from_id_token.ok());
  EXPECT_EQ(from_id_token->email, "a@example.com");
  EXPECT_EQ(from_id_token->name, "Ann");
  auto from_userinfo = merged(claims(R"(,"email":"a@example.com")"),
                              R"({"sub":"u1","email":"a@example.com","email_verified":"true"})");
  ASSERT_TRUE(from_userinfo.ok());
  EXPECT_EQ(from_userinfo->email, "a@example.com");
  auto userinfo_says_false = merged(claims(R"(,"email":"a@example.com","email_verified":true)"),
                                    R"({"sub":"u1","email":"a@example.com","email_verified":false})");
  ASSERT_TRUE(userinfo_says_false.ok());
  EXPECT_EQ(userinfo_says_false->email, std::nullopt);
  auto nobody_says = merged(claims(R"(,"email":"a@example.com")"), R"({"sub":"u1","email":"a@example.com"})");
  ASSERT_TRUE(nobody_says.ok());
  EXPECT_EQ(nobody_says->email, std::nullopt);
}

// Two "sub" in userinfo: we would read the first, Go (oauth2-proxy) and jansson
// (mod_auth_openidc) the last. Refused, as a duplicated claim in the ID token is.
TEST(OidcProfile, AUserinfoNamingSubOrEmailTwiceIsRefused) {
  const std::string good = claims(R"(,"email":"a@example.com","email_verified":true)");
  for (const char* userinfo :
       {R"({"sub":"u1","email_verified":true,"sub":"u2"})",
        R"({"sub":"u1","email":"a@example.com","email_verified":true,"email":"root@example.com"})"}) {
    auto p = merged(good, userinfo);
    ASSERT_FALSE(p.ok()) << userinfo;
    EXPECT_EQ(p.error().kind, ErrorKind::provider_error);
    EXPECT_NE(p.error().reason.find("sso user endpoint"), std::string::npos) << p.error().reason;
    EXPECT_NE(p.error().reason.find("twice"), std::string::npos) << p.error().reason;
  }
}

TEST(OidcDiscovery, ADocumentNamingAMemberTwiceIsRefused) {
  ProviderConfig c = oidc_config();
  MemoryStore store;
  FakeHttp http;
  // The second token_endpoint would win in another parser.
  http.on_json(kDiscoveryUrl, 200, discovery(R"(,"token_endpoint":"https://evil.example/token")"));
  auto p = resolve_provider(c);
  auto r = discover(*p, store, kKeys, http);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_NE(r.error().reason.find("\"token_endpoint\" twice"), std::string::npos) << r.error().reason;
  EXPECT_TRUE(store.keys().empty()) << "nothing refused is cached";
}
