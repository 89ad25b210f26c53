#include "access.hpp"

#include <gtest/gtest.h>

using namespace oauthfcgi;

namespace {

Profile user(const char* login, const char* email) {
  Profile p;
  p.provider = "github";
  p.id = "42";
  if (login) p.login = login;
  if (email) p.email = email;
  return p;
}

struct Fixture {
  Config config;
  ProviderConfig github;
  Fixture() {
    github.name = "github";
    github.type = ProviderType::github;
  }
  bool allows(const Profile& p, std::vector<std::string> orgs = {}) {
    return check_access(config, github, p, orgs).allowed;
  }
};

} // namespace

TEST(AccessRules, NoRulesAdmitEveryone) {
  Fixture f;
  EXPECT_TRUE(f.allows(user("octocat", nullptr)));
  EXPECT_FALSE(needs_github_orgs(f.config, f.github));
}

TEST(AccessRules, AnyMatchingListAdmitsWithinOneSet) {
  Fixture f;
  f.config.access.allowed_domains = {"Example.COM"};
  f.config.access.allowed_users = {"octocat", "7"};
  EXPECT_TRUE(f.allows(user("someone", "a@example.com")));
  EXPECT_TRUE(f.allows(user("OCTOCAT", nullptr)));
  Profile by_id = user(nullptr, nullptr);
  by_id.id = "7";
  EXPECT_TRUE(f.allows(by_id));
  EXPECT_FALSE(f.allows(user("someone", "a@example.com.evil.net")));
  EXPECT_FALSE(f.allows(user("someone", "a@sub.example.com"))) << "a domain is exact";
  EXPECT_FALSE(f.allows(user("someone", nullptr)));
}

TEST(AccessRules, EmailsCompareWholeAddresses) {
  Fixture f;
  f.config.access.allowed_emails = {"alice@example.com"};
  EXPECT_TRUE(f.allows(user("a", "ALICE@example.com")));
  EXPECT_FALSE(f.allows(user("a", "malice@example.com")));
  EXPECT_FALSE(f.allows(user("alice@example.com", nullptr))) << "a login is not an email";
}

TEST(AccessRules, GithubOrgsMatchTheMembershipsReadAtSignIn) {
  Fixture f;
  f.github.access.github_orgs = {"Acme"};
  EXPECT_TRUE(needs_github_orgs(f.config, f.github));
  EXPECT_TRUE(f.allows(user("a", nullptr), {"other", "acme"}));
  EXPECT_FALSE(f.allows(user("a", nullptr), {"acme-evil"}));
  ProviderConfig google;
  google.name = "google";
  google.type = ProviderType::google;
  EXPECT_FALSE(needs_github_orgs(f.config, google));
}

TEST(AccessRules, GlobalAndProviderSetsMustBothAdmit) {
  Fixture f;
  f.config.access.allowed_domains = {"example.com"};
  f.github.access.allowed_users = {"alice"};
  EXPECT_TRUE(f.allows(user("alice", "alice@example.com")));
  auto d = check_access(f.config, f.github, user("bob", "bob@example.com"), {});
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("[provider github]"), std::string::npos);
  d = check_access(f.config, f.github, user("alice", "alice@other.org"), {});
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("[access]"), std::string::npos);
}
