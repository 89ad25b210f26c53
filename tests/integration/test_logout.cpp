// Sign-out through nginx revokes the token at every provider type that has an
// endpoint for it, as the emulators see it: GitHub's DELETE /applications/{id}/token,
// Facebook's DELETE /me/permissions, RFC 7009 at a generic server (the dev provider),
// GitLab's and the OIDC emulator's, Google's, and node oidc-provider's. A revocation
// endpoint that fails or hangs still signs the browser out, at once server-side.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <regex>
#include <thread>

#include "browser.hpp"
#include "stack_suite.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::read_file;

namespace {

class Logout : public testutil::StackSuite<Logout> {
public:
  static testutil::StackOptions stack_options() {
    testutil::StackOptions o;
    o.oidc = true;
    return o;
  }
  static void SetUpTestSuite() {
    StackSuite::SetUpTestSuite();
    // [provider dev] gets the dev provider's RFC 7009 endpoint; its port is known only now.
    testutil::StackOptions dev;
    dev.dev_section = "revoke_url = " + stack_->provider() + "/oauth2/revoke\n";
    stack_->reconfigure(dev);
  }

protected:
  Page sign_in(Browser& b, const std::string& provider) {
    Page done = stack_->login(b, provider);
    EXPECT_EQ(done.status, 302) << provider << ": " << done.body;
    EXPECT_EQ(b.get(base() + "/auth/profile").status, 200) << provider;
    return done;
  }
  Page sign_out(Browser& b) { return b.request("POST", base() + "/auth/logout", {"Origin: " + base()}); }
  void expect_signed_out(Browser& b, const Page& out) {
    EXPECT_EQ(out.status, 303) << out.body;
    EXPECT_EQ(out.location(), "/");
    EXPECT_EQ(b.get(base() + "/auth/profile").status, 401);
  }
  std::string log_of(const std::string& file) const { return read_file(stack_->dir() + "/" + file); }
  // The programs' logout line says the provider and the outcome.
  void expect_logged(const std::string& provider, const std::string& outcome) {
    std::string logs = stack_->program_logs();
    EXPECT_NE(logs.find("event=logout provider=" + provider), std::string::npos) << logs;
    EXPECT_TRUE(std::regex_search(
        logs, std::regex("event=logout provider=" + provider + " user=[^ ]+ revocation=" + outcome)))
        << logs;
  }
  // Signs in at provider, signs out, and expects the emulator's counter one up and its
  // log to show the token revoked.
  void expect_revoked_on_logout(const std::string& provider, const std::function<int()>& revocations,
                                const std::string& log_file, const std::string& log_line) {
    Browser b;
    sign_in(b, provider);
    int before = revocations();
    expect_signed_out(b, sign_out(b));
    EXPECT_EQ(revocations(), before + 1) << provider;
    EXPECT_NE(log_of(log_file).find(log_line), std::string::npos) << log_of(log_file);
    expect_logged(provider, "revoked");
  }
};

} // namespace

TEST_F(Logout, GithubDeletesTheAppToken) {
  // 204 "revoked" only for a live token of this app; an unknown one would be a 404.
  expect_revoked_on_logout(
      "github", [&] { return stack_->provider_count("revoke"); }, "provider.log",
      "DELETE /github/api/applications/github-client/token 204");
}

TEST_F(Logout, FacebookDeauthorizesTheAppAndTheTokenIsRefusedAfterwards) {
  Browser b;
  sign_in(b, "facebook");
  // The Graph call the login made, with the user's token and its appsecret_proof.
  std::string stats = stack_->provider_call("GET", "/_dev/stats");
  std::smatch me, bearer;
  ASSERT_TRUE(std::regex_search(
      stats, me, std::regex(R"re("last_me_request": \{"path": "([^"]+)", "query": "([^"]*)")re")))
      << stats;
  ASSERT_TRUE(std::regex_search(stats, bearer, std::regex(R"re("authorization": "Bearer ([^"]+)")re")))
      << stats;
  std::string replay = stack_->provider() + me[1].str() + "?" + me[2].str();
  std::string token = bearer[1];
  Browser api;
  ASSERT_EQ(api.get(replay, {"Authorization: Bearer " + token}).status, 200);

  int before = stack_->provider_count("revoke");
  expect_signed_out(b, sign_out(b));
  EXPECT_EQ(stack_->provider_count("revoke"), before + 1);
  Page refused = api.get(replay, {"Authorization: Bearer " + token});
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("\"error_subcode\": 458"), std::string::npos) << refused.body;
  expect_logged("facebook", "revoked");
  EXPECT_EQ(stack_->program_logs().find(token), std::string::npos) << "no token in the logs";
}

TEST_F(Logout, GenericOauth2RevokesPerRfc7009) {
  expect_revoked_on_logout(
      "dev", [&] { return stack_->provider_count("revoke"); }, "provider.log", "POST /oauth2/revoke 200");
}

TEST_F(Logout, GoogleRevokesTheGrant) {
  // Google's endpoint answers 400 invalid_token for a token it doesn't know: 200 means live.
  expect_revoked_on_logout(
      "google", [&] { return stack_->emulator_count("google", "revoke"); }, "emulator.log",
      "POST /google/revoke 200 (revoked)");
}

TEST_F(Logout, GitlabRevokesTheRefreshToken) {
  expect_revoked_on_logout(
      "gitlab", [&] { return stack_->emulator_count("gitlab", "revoke"); }, "emulator.log",
      "POST /gitlab/oauth/revoke 200 (revoked)");
}

TEST_F(Logout, OidcServerRevokesAtItsDiscoveredEndpoint) {
  expect_revoked_on_logout(
      "sso", [&] { return stack_->emulator_count("oidc", "revoke"); }, "emulator.log",
      "POST /oidc/revoke 200 (revoked)");
}

TEST_F(Logout, NodeOidcProviderRevokesTheAccessToken) {
  // oidc-provider has no counters; its access log shows the call, and it answers 200
  // only to a client that authenticated.
  Browser b;
  sign_in(b, "op");
  size_t before = log_of("op.log").find("POST /token/revocation 200");
  expect_signed_out(b, sign_out(b));
  EXPECT_EQ(before, std::string::npos);
  EXPECT_NE(log_of("op.log").find("POST /token/revocation 200"), std::string::npos) << log_of("op.log");
  expect_logged("op", "revoked");
}

TEST_F(Logout, AFailingRevocationEndpointStillSignsOut) {
  Browser b;
  sign_in(b, "dev");
  fault("revoke", "500");
  int before = stack_->provider_count("revoke");
  expect_signed_out(b, sign_out(b));
  EXPECT_EQ(stack_->provider_count("revoke"), before + 1);
  expect_logged("dev", "failed reason=\"dev revocation endpoint answered HTTP 500\"");
  EXPECT_NE(stack_->program_logs().find("warn oauth-logout"), std::string::npos);
}

TEST_F(Logout, AHangingRevocationEndpointEndsTheSessionAtOnceAndSignsOutAtTheTimeout) {
  Browser b;
  sign_in(b, "github");
  std::string cookie = b.cookie("oauth_session");
  ASSERT_EQ(cookie.size(), 43u);
  fault("revoke", "hang");
  auto start = std::chrono::steady_clock::now();
  Page out;
  std::thread logout([&] { out = sign_out(b); });
  // While the provider hangs, the session is already gone.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Browser other;
  other.set_cookie("127.0.0.1", "oauth_session", cookie);
  EXPECT_EQ(other.get(base() + "/auth/profile").status, 401);
  logout.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(out.status, 303) << out.body;
  EXPECT_LT(seconds, 5.0) << "[http] timeout_ms is 1500";
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401);
  // "did not answer within 1500 ms"; on a reused keep-alive connection the client
  // currently words it as a connect timeout.
  expect_logged("github", "failed reason=\"github revocation endpoint: 127.0.0.1 did not ");
}
