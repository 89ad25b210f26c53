// The normalised user (profile.cpp): each provider type's user document mapped to
// one Profile, the stored JSON form and its round trip, and GitHub's email list.
#include "profile.hpp"

#include <gtest/gtest.h>

#include "fake_http.hpp"

using namespace oauthfcgi;

namespace {

Json parse(const char* text) {
  auto j = json_parse(text);
  EXPECT_TRUE(j.ok()) << text;
  return j.ok() ? std::move(*j) : json_object();
}

Provider provider_of(ProviderType type, const char* name) {
  Provider p;
  p.type = type;
  p.name = name;
  return p;
}

} // namespace

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

TEST(NormalizeProfile, GithubTakesItsNumericIdAndLogin) {
  Json user = parse(R"({"id":583231,"login":"octocat","name":"The Octocat","email":null,)"
                    R"("avatar_url":"https://avatars.example/u/583231"})");
  auto p = normalize_profile(provider_of(ProviderType::github, "github"), user.get());
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->provider, "github");
  EXPECT_EQ(p->id, "583231");
  EXPECT_EQ(p->login, "octocat");
  EXPECT_EQ(p->name, "The Octocat");
  EXPECT_EQ(p->email, std::nullopt);
  EXPECT_EQ(p->avatar_url, "https://avatars.example/u/583231");
}

TEST(NormalizeProfile, FacebookHasNoLoginAndItsPictureIsNested) {
  Json user = parse(R"({"id":"10001","name":"Alice","email":"a@x.example",)"
                    R"("picture":{"data":{"url":"https://pic.example/a.jpg"}}})");
  auto p = normalize_profile(provider_of(ProviderType::facebook, "facebook"), user.get());
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->id, "10001");
  EXPECT_EQ(p->login, std::nullopt);
  EXPECT_EQ(p->avatar_url, "https://pic.example/a.jpg");
  EXPECT_EQ(p->user(), "a@x.example");
}

TEST(NormalizeProfile, OidcClaimsMapToTheFieldsAndUnverifiedEmailIsDropped) {
  Json user = parse(R"({"sub":"108","preferred_username":"alice","name":"Alice","email":"a@example.com",)"
                    R"("email_verified":true,"picture":"https://pic.example/a","hd":"example.com"})");
  auto p = normalize_profile(provider_of(ProviderType::oidc, "corp"), user.get());
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->id, "108");
  EXPECT_EQ(p->login, "alice");
  EXPECT_EQ(p->email, "a@example.com");
  EXPECT_EQ(p->avatar_url, "https://pic.example/a");
  EXPECT_EQ(p->hd, "example.com");

  Json unverified = parse(R"({"sub":"108","email":"a@example.com","email_verified":false})");
  auto u = normalize_profile(provider_of(ProviderType::oidc, "corp"), unverified.get());
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->email, std::nullopt);
  EXPECT_EQ(u->user(), "108");
}

TEST(NormalizeProfile, Oauth2FallsBackToIdAndOtherLoginClaims) {
  Json user = parse(R"({"id":12,"username":"bob","avatar_url":"https://pic.example/b"})");
  auto p = normalize_profile(provider_of(ProviderType::oauth2, "forge"), user.get());
  ASSERT_TRUE(p.ok()) << p.error().reason;
  EXPECT_EQ(p->id, "12");
  EXPECT_EQ(p->login, "bob");
  EXPECT_EQ(p->avatar_url, "https://pic.example/b");
}

TEST(NormalizeProfile, ADocumentWithoutIdIsAProviderError) {
  Json user = parse(R"({"login":"octocat","id":""})");
  auto p = normalize_profile(provider_of(ProviderType::github, "github"), user.get());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(p.error().reason, "the user document from github has no id");
}

TEST(PrimaryVerifiedEmail, OnlyAnAddressBothPrimaryAndVerified) {
  Json emails = parse(R"([{"email":"b@x.example","primary":false,"verified":true},)"
                      R"({"email":"a@x.example","primary":true,"verified":true}])");
  EXPECT_EQ(primary_verified_email(emails.get()), "a@x.example");
  Json unverified = parse(R"([{"email":"a@x.example","primary":true,"verified":false}])");
  EXPECT_EQ(primary_verified_email(unverified.get()), std::nullopt);
  Json not_a_list = parse(R"({"email":"a@x.example","primary":true,"verified":true})");
  EXPECT_EQ(primary_verified_email(not_a_list.get()), std::nullopt);
}
