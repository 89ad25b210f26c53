// The normalised user (profile.cpp): the stored JSON form and its round trip, the
// OIDC-claims mapping that oidc, oauth2, google and gitlab share, and a document
// without id. GitHub's and Facebook's mappings: test_provider_<name>.cpp.
#include "profile.hpp"

#include <gtest/gtest.h>

#include "provider_test.hpp"

using namespace oauthfcgi;

using testutil::provider_of;

TEST(Profile, UserIsTheLoginElseTheEmailElseTheId) {
  Profile p;
  p.id = "42";
  EXPECT_EQ(p.user(), "42");
  p.email = "a@x.example";
  EXPECT_EQ(p.user(), "a@x.example");
  p.login = "alice";
  EXPECT_EQ(p.user(), "alice");
}

TEST(Profile, JsonHasEveryFieldWithNullsAndHdOnlyWhenSet) {
  Profile p;
  p.provider = "github";
  p.id = "1";
  p.login = "octocat";
  EXPECT_EQ(profile_json(p),
            R"({"provider":"github","id":"1","login":"octocat","name":null,"email":null,"avatar_url":null})");
  p.hd = "example.com";
  EXPECT_NE(profile_json(p).find(R"("hd":"example.com")"), std::string::npos);
}

TEST(Profile, JsonRoundTrips) {
  Profile p;
  p.provider = "google";
  p.id = "108";
  p.name = "Alice";
  p.email = "a@example.com";
  p.avatar_url = "https://pic.example/a";
  p.hd = "example.com";
  auto back = profile_from_json(profile_json(p));
  ASSERT_TRUE(back.ok()) << back.error().reason;
  EXPECT_EQ(back->provider, "google");
  EXPECT_EQ(back->id, "108");
  EXPECT_EQ(back->login, std::nullopt);
  EXPECT_EQ(back->name, "Alice");
  EXPECT_EQ(back->email, "a@example.com");
  EXPECT_EQ(back->avatar_url, "https://pic.example/a");
  EXPECT_EQ(back->hd, "example.com");
}

TEST(Profile, AStoredProfileWithoutProviderOrIdIsRefused) {
  EXPECT_FALSE(profile_from_json(R"({"id":"1"})").ok());
  EXPECT_FALSE(profile_from_json(R"({"provider":"github"})").ok());
  EXPECT_FALSE(profile_from_json("[]").ok());
  auto bad = profile_from_json(R"({"provider":"github","id":1})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::internal);
}

TEST(NormalizeProfile, OidcClaimsMapToTheFieldsAndUnverifiedEmailIsDropped) {
  Json user = testutil::parse_json(
      R"({"sub":"108","preferred_username":"alice","name":"Alice","email":"a@example.com",)"
      R"("email_verified":true,"picture":"https://pic.example/a","hd":"example.com"})");
  auto p = normalize_profile(provider_of(ProviderType::oidc, "corp"), user.get());
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->id, "108");
  EXPECT_EQ(p->login, "alice");
  EXPECT_EQ(p->email, "a@example.com");
  EXPECT_EQ(p->avatar_url, "https://pic.example/a");
  EXPECT_EQ(p->hd, "example.com");

  Json unverified = testutil::parse_json(R"({"sub":"108","email":"a@example.com","email_verified":false})");
  auto u = normalize_profile(provider_of(ProviderType::oidc, "corp"), unverified.get());
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->email, std::nullopt);
  EXPECT_EQ(u->user(), "108");
}

TEST(NormalizeProfile, Oauth2FallsBackToIdAndOtherLoginClaims) {
  Json user = testutil::parse_json(R"({"id":12,"username":"bob","avatar_url":"https://pic.example/b"})");
  auto p = normalize_profile(provider_of(ProviderType::oauth2, "forge"), user.get());
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->id, "12");
  EXPECT_EQ(p->login, "bob");
  EXPECT_EQ(p->avatar_url, "https://pic.example/b");
}

TEST(NormalizeProfile, ADocumentWithoutIdIsAProviderError) {
  Json user = testutil::parse_json(R"({"login":"octocat","id":""})");
  auto p = normalize_profile(provider_of(ProviderType::github, "github"), user.get());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(p.error().reason, "the user document from github has no id");
}

// Cognito and Apple send email_verified as a string: "false" is not "not false".
TEST(NormalizeProfile, EmailVerifiedAsTheStringFalseIsUnverified) {
  for (const char* said : {R"("false")", "false", R"("FALSE")", R"("no")", "0", "1", "null", R"("")", "{}"}) {
    std::string text = std::string(R"({"sub":"108","email":"a@example.com","email_verified":)") + said + "}";
    Json user = testutil::parse_json(text.c_str());
    auto p = normalize_profile(provider_of(ProviderType::oidc, "corp"), user.get());
    ASSERT_TRUE(p.ok()) << text;
    EXPECT_EQ(p->email, std::nullopt) << text;
    EXPECT_EQ(p->user(), "108") << text;
  }
  for (const char* said : {"true", R"("true")"}) {
    std::string text = std::string(R"({"sub":"108","email":"a@example.com","email_verified":)") + said + "}";
    Json user = testutil::parse_json(text.c_str());
    auto p = normalize_profile(provider_of(ProviderType::google, "google"), user.get());
    ASSERT_TRUE(p.ok()) << text;
    EXPECT_EQ(p->email, "a@example.com") << text;
  }
}

// Verified only when the provider says so: an address without email_verified is no identity.
TEST(NormalizeProfile, AnOpenIdEmailWithoutEmailVerifiedIsNotUsed) {
  Json user = testutil::parse_json(R"({"sub":"108","email":"a@example.com"})");
  for (ProviderType t : {ProviderType::oidc, ProviderType::google, ProviderType::gitlab}) {
    auto p = normalize_profile(provider_of(t, "corp"), user.get());
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->email, std::nullopt);
  }
}

// A plain OAuth2 server's "email" is whatever the account typed in: used for access
// rules only when the server marks it verified (email_verified or verified).
TEST(NormalizeProfile, Oauth2UsesOnlyAnEmailTheServerMarksVerified) {
  auto email_of = [](const char* text) {
    Json user = testutil::parse_json(text);
    auto p = normalize_profile(provider_of(ProviderType::oauth2, "forge"), user.get());
    EXPECT_TRUE(p.ok()) << text;
    return p.ok() ? p->email : std::nullopt;
  };
  EXPECT_EQ(email_of(R"({"id":12,"username":"bob","email":"bob@example.org"})"), std::nullopt);
  EXPECT_EQ(email_of(R"({"id":12,"email":"bob@example.org","verified":"false"})"), std::nullopt);
  EXPECT_EQ(email_of(R"({"id":12,"email":"bob@example.org","email_verified":true})"), "bob@example.org");
  EXPECT_EQ(email_of(R"({"id":12,"email":"bob@example.org","verified":true})"), "bob@example.org");
  EXPECT_EQ(email_of(R"({"id":12,"email":"bob@example.org","verified":"true"})"), "bob@example.org");
  // Two marks that disagree: false wins.
  EXPECT_EQ(email_of(R"({"id":12,"email":"bob@example.org","verified":true,"email_verified":false})"),
            std::nullopt);
}
