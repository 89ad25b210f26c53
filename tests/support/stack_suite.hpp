// A GoogleTest suite sharing one Stack (started once per suite, stopped pass or
// fail): armed faults cleared before each test, program logs printed after a failure.
// Suite is the deriving class (CRTP); it may define stack_options(). OidcStackSuite is
// the same with the OpenID Connect servers, for suites that sign in there.
#pragma once

#include <gtest/gtest.h>

#include <iostream>

#include "stack.hpp"

namespace testutil {

template <class Suite> class StackSuite : public ::testing::Test {
protected:
  static StackOptions stack_options() { return {}; }
  static void SetUpTestSuite() { stack_ = new Stack(Suite::stack_options()); }
  static void TearDownTestSuite() {
    delete stack_;
    stack_ = nullptr;
  }
  void SetUp() override { stack_->provider_call("DELETE", "/_dev/fault"); }
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- program logs ----\n" << stack_->program_logs().substr(0, 20000);
  }

  std::string base() const { return stack_->base(); }
  // The next request to the emulator's `endpoint` misbehaves as `mode` (see its README).
  void fault(const std::string& endpoint, const std::string& mode) {
    stack_->provider_call("POST", "/_dev/fault?endpoint=" + endpoint + "&mode=" + mode);
  }
  // A 502 page saying in general terms that the provider's answer was of no use, with a
  // link to start again; `words`, the detail, are in the programs' log under the page's
  // request id, and not on the page.
  void expect_502_saying(const Page& page, const std::string& words) {
    EXPECT_EQ(page.status, 502) << page.body;
    EXPECT_NE(page.body.find("answered with something we could not use"), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("/auth/connect"), std::string::npos) << "a link to start again";
    expect_logged_not_shown(page, words);
  }
  // A 5xx answer (page or JSON) names its request id, and the log line of that request
  // says `words`, which the answer does not.
  void expect_logged_not_shown(const Page& page, const std::string& words) {
    EXPECT_EQ(page.body.find(words), std::string::npos) << page.body;
    std::string id = request_id_in(page.body);
    ASSERT_FALSE(id.empty()) << "no request id in " << page.body;
    std::string logs = stack_->program_logs();
    bool found = false;
    for (size_t at = logs.find("req=" + id); at != std::string::npos && !found;
         at = logs.find("req=" + id, at + 1)) {
      size_t end = logs.find('\n', at);
      found = logs.substr(at, end == std::string::npos ? end : end - at).find(words) != std::string::npos;
    }
    EXPECT_TRUE(found) << "no log line of request " << id << " says: " << words;
  }
  // The request id an error answer names (HTML "request id: <hex>", JSON "request_id":"<hex>"); "" when none.
  static std::string request_id_in(const std::string& body) {
    for (std::string marker : {"request id: ", "\"request_id\":\""}) {
      auto at = body.find(marker);
      if (at == std::string::npos) continue;
      at += marker.size();
      size_t end = at;
      while (end < body.size() && std::isxdigit(static_cast<unsigned char>(body[end])))
        end++;
      if (end - at >= 8) return body.substr(at, end - at);
    }
    return "";
  }

  // Signs b in at `provider` (provider_extra as for Stack::login) and returns its
  // /auth/profile answer; a sign-in that does not end in the callback's 302 fails the test.
  Page signed_in_profile(Browser& b, const std::string& provider, const std::string& provider_extra = "") {
    Page done = stack_->login(b, provider, "", provider_extra);
    EXPECT_EQ(done.status, 302) << provider << ": " << done.body;
    return b.get(base() + "/auth/profile");
  }

  // Signs in once at `provider`, then brings the same code back under another valid,
  // unused state of the same browser: only the provider can refuse it.
  Page replay_code(Browser& b, const std::string& provider) {
    Page first = b.get(base() + "/auth/connect/" + provider);
    Page second = b.get(base() + "/auth/connect/" + provider);
    Page authorize = b.get(first.location());
    std::string code = query_value(authorize.location(), "code");
    EXPECT_FALSE(code.empty()) << authorize.location();
    EXPECT_EQ(b.get(authorize.location()).status, 302);
    return b.get(base() + "/auth/callback/" + provider + "?code=" + code +
                 "&state=" + query_value(second.location(), "state"));
  }

  static inline Stack* stack_ = nullptr;
};

// A StackSuite whose Stack also runs the OpenID Connect servers (StackOptions::oidc);
// the emulator's armed faults, not the dev provider's, are cleared before each test.
template <class Suite> class OidcStackSuite : public StackSuite<Suite> {
public:
  static StackOptions stack_options() {
    StackOptions o;
    o.oidc = true;
    return o;
  }

protected:
  void SetUp() override { this->stack_->emulator_call("DELETE", "/_dev/fault"); }
};

} // namespace testutil
