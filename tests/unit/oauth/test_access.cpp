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

UserRef ref(const char* entry) {
  auto r = parse_user_ref(entry);
  EXPECT_TRUE(r.ok()) << entry;
  return r.ok() ? *r : UserRef{};
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
  f.config.access.allowed_users = {ref("github:octocat"), ref("github:id:7")};
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
  f.github.access.allowed_users = {ref("alice")};
  EXPECT_TRUE(f.allows(user("alice", "alice@example.com")));
  auto d = check_access(f.config, f.github, user("bob", "bob@example.com"), {});
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("[provider github]"), std::string::npos);
  d = check_access(f.config, f.github, user("alice", "alice@other.org"), {});
  EXPECT_FALSE(d.allowed);
  EXPECT_NE(d.reason.find("[access]"), std::string::npos);
}

TEST(UserRef, ParsesLoginsIdsAndTheirProvider) {
  auto r = parse_user_ref("alice");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->provider, "");
  EXPECT_EQ(r->kind, UserRef::Kind::login);
  EXPECT_EQ(r->value, "alice");
  r = parse_user_ref("id:1001");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->provider, "");
  EXPECT_EQ(r->kind, UserRef::Kind::id);
  EXPECT_EQ(r->value, "1001");
  r = parse_user_ref("github:id:583231");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->provider, "github");
  EXPECT_EQ(r->kind, UserRef::Kind::id);
  EXPECT_EQ(r->value, "583231");
  r = parse_user_ref("corp:a:b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->provider, "corp");
  EXPECT_EQ(r->kind, UserRef::Kind::login);
  EXPECT_EQ(r->value, "a:b");
  for (const char* bad : {"", ":", "id:", "github:", "github:id:", ":alice", ":id:1"})
    EXPECT_FALSE(parse_user_ref(bad).ok()) << bad;
  for (const char* text : {"alice", "id:1001", "github:alice", "github:id:583231"})
    EXPECT_EQ(user_ref_text(ref(text)), text);
}

// Issue 18 item 2: a login is never an id, an id never a login, one provider's user
// never another's.
TEST(AccessRules, AllowedUsersNeverConfuseLoginsIdsOrProviders) {
  Fixture f;
  f.github.access.allowed_users = {ref("1001")};
  Profile login_1001 = user("1001", nullptr);
  login_1001.id = "5";
  Profile id_1001 = user("mallory", nullptr);
  id_1001.id = "1001";
  EXPECT_TRUE(f.allows(login_1001));
  EXPECT_FALSE(f.allows(id_1001));
  f.github.access.allowed_users = {ref("id:1001")};
  EXPECT_FALSE(f.allows(login_1001));
  EXPECT_TRUE(f.allows(id_1001));

  f.github.access.allowed_users = {};
  f.config.access.allowed_users = {ref("github:alice"), ref("gitlab:id:9")};
  ProviderConfig gitlab;
  gitlab.name = "gitlab";
  gitlab.type = ProviderType::gitlab;
  Profile alice = user("alice", nullptr);
  Profile nine = user("nine", nullptr);
  nine.id = "9";
  EXPECT_TRUE(f.allows(alice));
  EXPECT_FALSE(check_access(f.config, gitlab, alice, {}).allowed) << "gitlab's alice is another account";
  EXPECT_TRUE(check_access(f.config, gitlab, nine, {}).allowed);
  EXPECT_FALSE(f.allows(nine)) << "github's id 9 is another account";
}
