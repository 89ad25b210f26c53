// OpenID Connect through nginx + Redis: a real, certified server from npm (node
// oidc-provider) for the oidc type, the emulator for google, gitlab and every ID
// token or answer a client must refuse.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <regex>
#include <thread>

#include "browser.hpp"
#include "crypto.hpp"
#include "stack_suite.hpp"
#include "store_keys.hpp"

using namespace testutil;

namespace {

// A TCP listener on loopback that keeps whatever is sent to it and answers nothing useful:
// the attacker's host a forged endpoint points at.
class Listener {
public:
  Listener() : port_(free_port()) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 16) != 0)
      throw std::runtime_error("listener: cannot listen");
    thread_ = std::thread([this] { run(); });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      char buf[4096];
      pollfd q{c, POLLIN, 0};
      while (poll(&q, 1, 200) > 0) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        std::lock_guard<std::mutex> lock(mu_);
        received_.append(buf, static_cast<size_t>(n));
      }
      static const char answer[] = "HTTP/1.1 500 No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!write(c, answer, sizeof answer - 1);
      close(c);
    }
  }
  int port_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string received_;
  std::thread thread_;
};

// What the stack's programs put in front of every Redis key (the default key_prefix).
const std::string kPrefix = oauthfcgi::RedisConfig().key_prefix;

// The JSON string member `name` of a flat document.
std::string member(const std::string& doc, const std::string& name) {
  std::smatch m;
  std::regex_search(doc, m, std::regex("\"" + name + "\"\\s*:\\s*\"([^\"]*)\""));
  return m.size() > 1 ? m[1].str() : "";
}

// A JWKS of a fresh RSA key of the test's, under each of `kids`: the attacker's key set.
std::string attacker_jwks(const std::vector<std::string>& kids) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  auto param = [&](const char* name) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key, name, &bn);
    std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return oauthfcgi::base64url_encode(out);
  };
  std::string n = param(OSSL_PKEY_PARAM_RSA_N), e = param(OSSL_PKEY_PARAM_RSA_E);
  EVP_PKEY_free(key);
  std::string out = R"({"keys":[)";
  for (const auto& kid : kids)
    out += (out.back() == '[' ? "" : ",") + std::string(R"({"kty":"RSA","alg":"RS256","use":"sig","kid":")") +
           kid + R"(","n":")" + n + R"(","e":")" + e + "\"}";
  return out + "]}";
}

class Oidc : public OidcStackSuite<Oidc> {
protected:
  Page login(Browser& b, const std::string& provider, const std::string& extra = "") {
    return stack_->login(b, provider, "", extra);
  }
  // Arms an attack on the emulator's generic OpenID flavour ([provider sso]).
  void attack(const std::string& mode) {
    stack_->emulator_call("POST", "/_dev/fault?flavor=oidc&mode=" + mode);
  }
  // A counter of the emulator's generic flavour ("jwks", "discovery", ...).
  int emulator_count(const std::string& name) { return stack_->emulator_count("oidc", name); }
};

} // namespace

TEST_F(Oidc, RealOidcProviderSignsInWithAVerifiedIdToken) {
  Browser b;
  Page profile = signed_in_profile(b, "op");
  ASSERT_EQ(profile.status, 200) << profile.body;
  EXPECT_NE(profile.body.find(R"("provider":"op","id":"alice","login":"alice","name":"Alice Example",)"
                              R"("email":"alice@example.com")"),
            std::string::npos)
      << profile.body;
  Page page = b.get(base() + "/private/x");
  EXPECT_NE(page.body.find("user=alice email=alice@example.com provider=op"), std::string::npos) << page.body;
}

TEST_F(Oidc, RealOidcProviderAnswerCarriesIssWhichIsChecked) {
  Browser b;
  Page connect = b.get(base() + "/auth/connect/op");
  Page hop = b.get(connect.location());
  for (int i = 0; i < 10 && hop.location().rfind(base(), 0) != 0; ++i) {
    std::string to = hop.location();
    hop = b.get(to.rfind("http", 0) == 0 ? to : stack_->oidc_op() + to);
  }
  std::string callback = hop.location();
  ASSERT_FALSE(query_value(callback, "iss").empty()) << callback;
  // The same answer with another iss (a mix-up) is refused before the code is used.
  std::string forged = callback;
  auto at = forged.find("iss=");
  forged.replace(
      at + 4, forged.find('&', at) == std::string::npos ? std::string::npos : forged.find('&', at) - at - 4,
      testutil::escape("https://evil.example"));
  Page refused = b.get(forged);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("another issuer"), std::string::npos) << refused.body;
}

TEST_F(Oidc, GoogleKeepsTheHostedDomain) {
  Browser b;
  Page profile = signed_in_profile(b, "google", "&dev_user=alice");
  EXPECT_NE(profile.body.find("\"email\":\"alice@example.com\""), std::string::npos) << profile.body;
  EXPECT_NE(profile.body.find("\"hd\":\"example.com\""), std::string::npos) << profile.body;
  Browser carol;
  EXPECT_NE(signed_in_profile(carol, "google", "&dev_user=carol").body.find("\"email\":null"),
            std::string::npos)
      << "email_verified false is not an email";
}

TEST_F(Oidc, GitlabSignsInWithItsUsername) {
  Browser b;
  Page profile = signed_in_profile(b, "gitlab", "&dev_user=alice");
  EXPECT_NE(profile.body.find("\"provider\":\"gitlab\""), std::string::npos) << profile.body;
  EXPECT_NE(profile.body.find("\"login\":\"alice\""), std::string::npos) << profile.body;
}

TEST_F(Oidc, DiscoveryAndKeysAreCachedInRedisWithATtl) {
  Browser a, b;
  ASSERT_EQ(login(a, "sso").status, 302);
  int discovery = emulator_count("discovery"), jwks = emulator_count("jwks");
  ASSERT_EQ(login(b, "sso").status, 302);
  EXPECT_EQ(emulator_count("discovery"), discovery);
  EXPECT_EQ(emulator_count("jwks"), jwks);
  std::string dump = stack_->redis().dump_all();
  EXPECT_NE(dump.find("oidc:discovery:"), std::string::npos) << dump;
  EXPECT_EQ(dump.find(" -1 "), std::string::npos) << "every key has a TTL:\n" << dump;
}

TEST_F(Oidc, RotatedKeyIsFetchedOnceAndAccepted) {
  Browser a, b;
  ASSERT_EQ(login(a, "sso").status, 302);
  int jwks = emulator_count("jwks");
  attack("rotate");
  Page done = login(b, "sso");
  EXPECT_EQ(done.status, 302) << done.body;
  EXPECT_EQ(emulator_count("jwks"), jwks + 1);
}

// Whoever can write Redis (another tenant of a shared instance, a leaked password)
// replaces the cached discovery document: token_endpoint on their host would receive
// the code and the client secret at the next sign-in. The copy does not open (it is
// not sealed with our key), so it is fetched again from the issuer.
TEST_F(Oidc, ForgedDiscoveryInRedisGetsNoClientSecret) {
  Listener attacker;
  const std::string issuer = stack_->oidc_emulator() + "/oidc";
  std::string doc = Browser().get(issuer + "/.well-known/openid-configuration").body;
  const std::string real_token = member(doc, "token_endpoint");
  ASSERT_FALSE(real_token.empty()) << doc;
  doc.replace(doc.find(real_token), real_token.size(), attacker.url() + "/token");
  const std::string key = kPrefix + oauthfcgi::discovery_key(issuer);
  ASSERT_EQ(stack_->redis().cli({"SET", key, doc, "PX", "3600000"}), "OK");
  stack_->reconfigure(stack_options()); // no process holds the document in memory now
  Browser b;
  Page done = login(b, "sso");
  EXPECT_EQ(done.status, 302) << done.body;
  const std::string got = attacker.received();
  EXPECT_TRUE(got.empty()) << "the forged token_endpoint was called: " << got.substr(0, got.find('\r'));
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 200);
  EXPECT_EQ(stack_->redis().cli({"GET", key}).find(attacker.url()), std::string::npos)
      << "the forged copy is still in Redis";
}

// The same with the cached JWKS: the attacker's own key under the issuer's kids would
// let ID tokens they sign pass. The forged set is not used: the keys are fetched again.
TEST_F(Oidc, ForgedKeySetInRedisIsNotTrusted) {
  Browser first;
  ASSERT_EQ(login(first, "sso").status, 302);
  const std::string issuer = stack_->oidc_emulator() + "/oidc";
  const std::string doc = Browser().get(issuer + "/.well-known/openid-configuration").body;
  const std::string jwks_uri = member(doc, "jwks_uri");
  const std::string real = Browser().get(jwks_uri).body;
  std::vector<std::string> kids;
  std::regex kid_re("\"kid\"\\s*:\\s*\"([^\"]*)\"");
  for (std::sregex_iterator it(real.begin(), real.end(), kid_re), end; it != end; ++it)
    kids.push_back((*it)[1].str());
  ASSERT_FALSE(kids.empty()) << real;
  const std::string forged = attacker_jwks(kids);
  const std::string key = kPrefix + oauthfcgi::jwks_key(jwks_uri);
  ASSERT_EQ(stack_->redis().cli({"SET", key, forged, "PX", "3600000"}), "OK");
  Browser b;
  Page done = login(b, "sso");
  EXPECT_EQ(done.status, 302) << "the ID token was checked against the forged key set: " << done.body;
  EXPECT_NE(stack_->redis().cli({"GET", key}), forged) << "the forged key set is still in Redis";
}

// Each of these must be refused: the browser gets no session.
struct Attack {
  const char* mode;
  int status;
  const char* words;
};

TEST_F(Oidc, EveryForgedIdTokenOrAnswerIsRefused) {
  for (Attack a : std::initializer_list<Attack>{
           {"bad_signature", 502, "ID token refused"},
           {"wrong_aud", 502, "aud is not this client"},
           {"multi_aud_no_azp", 502, "several audiences and no azp"},
           {"wrong_azp", 502, "azp is not this client"},
           {"wrong_iss", 502, "iss is not the issuer"},
           {"expired", 502, "expired"},
           {"future_iat", 502, "issued in the future"},
           {"wrong_nonce", 502, "nonce is not the one sent"},
           {"no_nonce", 502, "nonce is not the one sent"},
           {"alg_none", 502, "ID token refused"},
           {"alg_hs256", 502, "ID token refused"},
           {"unknown_kid", 502, "ID token refused"},
           {"iss_param", 400, "another issuer"},
           {"no_iss_param", 400, "lacks the issuer"},
       }) {
    Browser b;
    attack(a.mode);
    Page done = login(b, "sso");
    EXPECT_EQ(done.status, a.status) << a.mode << ": " << done.body;
    if (a.status >= 500)
      expect_logged_not_shown(done, a.words); // a 5xx page says no more than what happened
    else
      EXPECT_NE(done.body.find(a.words), std::string::npos) << a.mode << ": " << done.body;
    EXPECT_EQ(b.get(base() + "/auth/profile").status, 401) << a.mode;
    stack_->emulator_call("DELETE", "/_dev/fault");
  }
}

TEST_F(Oidc, DiscoveryNamingAnotherIssuerIsRefused) {
  Browser b;
  attack("discovery_issuer");
  Page connect = b.get(base() + "/auth/connect/sso");
  EXPECT_EQ(connect.status, 502) << connect.body;
  expect_logged_not_shown(connect, "discovery document names another issuer");
  EXPECT_EQ(stack_->redis().dump_all().find("oidc:discovery:"), std::string::npos) << "nothing cached";
}

TEST_F(Oidc, ServerFailuresAre502And504) {
  Browser b;
  stack_->emulator_call("POST", "/_dev/fault?flavor=oidc&mode=500&endpoint=token");
  EXPECT_EQ(login(b, "sso").status, 502);
  stack_->emulator_call("POST", "/_dev/fault?flavor=oidc&mode=html&endpoint=userinfo");
  EXPECT_EQ(login(b, "sso").status, 502);
  stack_->emulator_call("POST", "/_dev/fault?flavor=oidc&mode=hang&endpoint=token");
  EXPECT_EQ(login(b, "sso").status, 504);
}

// ---- what the server says of the user's email, and answers naming a member twice ----

namespace {

// Providers whose access rules name an email: sso_strict (the emulator's generic OpenID
// flavour), forge and forge_trusting (type oauth2 on its GitLab flavour, whose
// /api/v4/user has an "email" and no verified mark).
class OidcEmail : public OidcStackSuite<OidcEmail> {
public:
  static StackOptions stack_options() {
    StackOptions o = OidcStackSuite<OidcEmail>::stack_options();
    o.emulator_providers = {"sso_strict", "forge", "forge_trusting"};
    return o;
  }
  static void SetUpTestSuite() {
    OidcStackSuite<OidcEmail>::SetUpTestSuite();
    StackOptions o = stack_options();
    const std::string e = stack_->oidc_emulator();
    const std::string client = "client_id = oidc-client\nclient_secret = oidc-secret\n";
    const std::string gitlab = "type = oauth2\nauthorize_url = " + e +
                               "/gitlab/oauth/authorize\ntoken_url = " + e +
                               "/gitlab/oauth/token\nuserinfo_url = " + e +
                               "/gitlab/api/v4/user\nscope = openid read_user\n" + client;
    o.extra_config = "[provider sso_strict]\ntype = oidc\nissuer = " + e + "/oidc\n" + client +
                     "allowed_emails = alice@example.com, carol@example.net\n\n"
                     "[provider forge]\n" +
                     gitlab + "allowed_emails = alice@example.com, bob@example.org\n\n" +
                     "[provider forge_trusting]\n" + gitlab +
                     "trust_email = true\nallowed_emails = alice@example.com\n\n";
    stack_->reconfigure(o);
  }

protected:
  void arm(const std::string& flavor, const std::string& mode) {
    stack_->emulator_call("POST", "/_dev/fault?flavor=" + flavor + "&mode=" + mode + "&count=0");
  }
  // Signs `user` in at `provider`; the callback's answer.
  Page sign_in(Browser& b, const std::string& provider, const std::string& user) {
    return stack_->login(b, provider, "", "&dev_user=" + user);
  }
};

} // namespace

// carol's address is unverified; allowed_emails names it. Said as the string "false"
// (Cognito, Apple), it is still unverified: no session.
TEST_F(OidcEmail, EmailVerifiedAsTheStringFalseDoesNotPassAllowedEmails) {
  arm("oidc", "verified_as_string");
  Browser carol;
  Page refused = sign_in(carol, "sso_strict", "carol");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(carol.get(base() + "/auth/profile").status, 401);
  // The string "true" is verified.
  Browser alice;
  Page done = sign_in(alice, "sso_strict", "alice");
  EXPECT_EQ(done.status, 302) << done.body;
  EXPECT_NE(alice.get(base() + "/auth/profile").body.find("\"email\":\"alice@example.com\""),
            std::string::npos);
}

// The ID token says carol's address is unverified; userinfo says nothing: still unverified.
TEST_F(OidcEmail, UserinfoSilentAboutAnEmailTheIdTokenCallsUnverifiedDoesNotVerifyIt) {
  arm("oidc", "userinfo_unverified_omitted");
  Browser carol;
  Page refused = sign_in(carol, "sso_strict", "carol");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(carol.get(base() + "/auth/profile").status, 401);
}

// Type oauth2: bob's unconfirmed address is not his identity unless the section trusts it.
TEST_F(OidcEmail, Oauth2UsesAnUnmarkedEmailOnlyWithTrustEmail) {
  Browser bob;
  Page refused = sign_in(bob, "forge", "bob");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(bob.get(base() + "/auth/profile").status, 401);
  Browser alice;
  Page unmarked = sign_in(alice, "forge", "alice");
  EXPECT_EQ(unmarked.status, 403) << "GitLab's /user marks no address verified: " << unmarked.body;
  Browser trusting;
  Page done = sign_in(trusting, "forge_trusting", "alice");
  EXPECT_EQ(done.status, 302) << done.body;
  Page page = trusting.get(base() + "/private/x");
  EXPECT_NE(page.body.find("email=alice@example.com provider=forge_trusting"), std::string::npos)
      << page.body;
}

// A userinfo answer naming sub (or email) twice: we would read the first, oauth2-proxy
// and mod_auth_openidc the last. Refused, with no session.
TEST_F(OidcEmail, UserinfoNamingSubOrEmailTwiceIsRefused) {
  for (const char* mode : {"userinfo_duplicate_sub", "userinfo_duplicate_email"}) {
    stack_->emulator_call("DELETE", "/_dev/fault");
    arm("oidc", mode);
    Browser b;
    Page refused = sign_in(b, "sso", "alice");
    EXPECT_EQ(refused.status, 502) << mode << ": " << refused.body;
    EXPECT_EQ(b.get(base() + "/auth/profile").status, 401) << mode;
    // The log names the member (its line escapes the quotes).
    const std::string member = mode == std::string("userinfo_duplicate_sub") ? "sub" : "email";
    EXPECT_NE(stack_->program_logs().find("naming the member \\\"" + member + "\\\" twice"),
              std::string::npos)
        << mode;
  }
}

// The same real server, signing with other algorithms.
TEST(OidcAlgorithms, Es256AndPs256FromTheRealServerVerify) {
  for (const char* alg : {"ES256", "PS256"}) {
    StackOptions o;
    o.oidc = true;
    o.op_args = {"--alg", alg};
    Stack stack(o);
    Browser b;
    Page done = stack.login(b, "op");
    EXPECT_EQ(done.status, 302) << alg << ": " << done.body << stack.program_logs();
  }
}
