// OpenID Connect through nginx + Redis: a real, certified server from npm (node
// oidc-provider) for the oidc type, the emulator for google, gitlab and every ID
// token or answer a client must refuse.
#include <gtest/gtest.h>

#include "browser.hpp"
#include "stack_suite.hpp"

using namespace testutil;

namespace {

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
