// oauth-api's rules: api_allow rules and their matching, the paths a browser may ask for,
// the headers that cross the relay each way, and Link headers pointed back at the relay.
#include "api_relay.hpp"

#include <gtest/gtest.h>

using namespace oauthfcgi;

namespace {

std::vector<ApiRule> rules(std::initializer_list<const char*> texts) {
  std::vector<ApiRule> out;
  for (const char* t : texts) {
    auto r = parse_api_rule(t);
    EXPECT_TRUE(r.ok()) << t;
    if (r.ok()) out.push_back(*r);
  }
  return out;
}

std::vector<std::string> segs(std::initializer_list<const char*> s) {
  return {s.begin(), s.end()};
}

} // namespace

TEST(ApiRule, ParsesMethodAndSegments) {
  auto r = parse_api_rule("POST:/repos/*/*/issues");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->segments, segs({"repos", "*", "*", "issues"}));
  EXPECT_EQ(r->text, "POST:/repos/*/*/issues");
}

TEST(ApiRule, RefusesWhatIsNotARule) {
  for (const char* bad :
       {"/user", "get:/user", "GET:", "GET:/", "GET:user", "GET:/a//b", "GET:/a/../b", "GET:/a/./b",
        "GET:/re*", "GET:/**/x", "GET:/a/b%2f", "GET:/a?x=1", "GET:/a\\b", "GET:/a/", "G-T:/a"}) {
    EXPECT_FALSE(parse_api_rule(bad).ok()) << bad;
  }
}

TEST(ApiRule, StarIsOneSegmentAndFinalDoubleStarOneOrMore) {
  auto r = rules({"GET:/user/repos", "POST:/repos/*/*/issues", "GET:/orgs/**"});
  EXPECT_TRUE(api_allowed(r, "GET", segs({"user", "repos"})));
  EXPECT_FALSE(api_allowed(r, "POST", segs({"user", "repos"}))) << "the method is part of the rule";
  EXPECT_FALSE(api_allowed(r, "GET", segs({"user"})));
  EXPECT_FALSE(api_allowed(r, "GET", segs({"user", "repos", "x"})));
  EXPECT_FALSE(api_allowed(r, "GET", segs({"User", "repos"}))) << "literals are exact";
  EXPECT_TRUE(api_allowed(r, "POST", segs({"repos", "octo", "hello", "issues"})));
  EXPECT_FALSE(api_allowed(r, "POST", segs({"repos", "octo", "issues"})));
  EXPECT_FALSE(api_allowed(r, "POST", segs({"repos", "a", "b", "c", "issues"})));
  EXPECT_TRUE(api_allowed(r, "GET", segs({"orgs", "acme"})));
  EXPECT_TRUE(api_allowed(r, "GET", segs({"orgs", "acme", "members", "x"})));
  EXPECT_FALSE(api_allowed(r, "GET", segs({"orgs"}))) << "** is one or more";
  EXPECT_FALSE(api_allowed({}, "GET", segs({"user"}))) << "no rules: nothing";
}

TEST(ApiPath, KeepsTheRawPathAndDecodesSegments) {
  auto p = parse_api_path("repos/octo/hello%20world/contents/a%3Ab");
  EXPECT_FALSE(p.ok()) << "an encoded space is refused";
  p = parse_api_path("repos/octo/hello-world/contents/a%3Ab");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->raw, "repos/octo/hello-world/contents/a%3Ab");
  EXPECT_EQ(p->segments, segs({"repos", "octo", "hello-world", "contents", "a:b"}));
}

TEST(ApiPath, RefusesEveryBadForm) {
  for (const char* bad : {"",
                          "user/../admin",
                          "../user",
                          "user/.",
                          "./user",
                          "user//repos",
                          "/user",
                          "user/",
                          "user\\repos",
                          "user%2frepos",
                          "user%2Frepos",
                          "user%5crepos",
                          "user%5Crepos",
                          "%2e%2e/admin",
                          "%2E/x",
                          "user%00",
                          "user%0a",
                          "user%20x",
                          "user x",
                          "user\x01",
                          "user\x7f",
                          "user%7F",
                          "user%",
                          "user%2",
                          "user%zz"}) {
    auto p = parse_api_path(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().code, "bad_path") << bad;
    EXPECT_EQ(p.error().kind, ErrorKind::bad_request);
  }
}

TEST(ApiHeaders, OnlyTheListedBrowserHeadersAreSentOn) {
  Request request({{"HTTP_ACCEPT", "application/json"},
                   {"HTTP_ACCEPT_LANGUAGE", "fr"},
                   {"CONTENT_TYPE", "application/json"},
                   {"HTTP_IF_NONE_MATCH", "\"abc\""},
                   {"HTTP_COOKIE", "oauth_session=x"},
                   {"HTTP_AUTHORIZATION", "Bearer stolen"},
                   {"HTTP_X_CSRF", "1"},
                   {"HTTP_HOST", "www.example.com"},
                   {"HTTP_X_FORWARDED_FOR", "10.0.0.1"}});
  Headers h = api_forwarded_headers(request);
  EXPECT_EQ(*find_header(h, "Accept"), "application/json");
  EXPECT_EQ(*find_header(h, "Accept-Language"), "fr");
  EXPECT_EQ(*find_header(h, "Content-Type"), "application/json");
  EXPECT_EQ(*find_header(h, "If-None-Match"), "\"abc\"");
  for (const char* never : {"Cookie", "Authorization", "X-CSRF", "Host", "X-Forwarded-For"})
    EXPECT_EQ(find_header(h, never), nullptr) << never;
}

TEST(ApiHeaders, TheAnswerKeepsOnlyItsListedHeadersWithLinksPointedAtTheRelay) {
  HttpResponse r;
  r.headers = {{"content-type", "application/json; charset=utf-8"},
               {"etag", "W/\"1\""},
               {"set-cookie", "logged_in=yes"},
               {"x-ratelimit-remaining", "4999"},
               {"x-ratelimit-used", "1"},
               {"x-github-request-id", "ABCD"},
               {"server", "github.com"},
               {"link", "<https://api.github.com/user/repos?page=2>; rel=\"next\", "
                        "<https://evil.example/x?page=9>; rel=\"last\""}};
  Headers h = api_answer_headers(r, "https://api.github.com", "https://www.example.com/auth/api/github");
  EXPECT_EQ(*find_header(h, "Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(*find_header(h, "ETag"), "W/\"1\"");
  EXPECT_EQ(*find_header(h, "X-RateLimit-Remaining"), "4999");
  EXPECT_EQ(*find_header(h, "X-RateLimit-Used"), "1");
  EXPECT_EQ(*find_header(h, "Link"),
            "<https://www.example.com/auth/api/github/user/repos?page=2>; rel=\"next\"");
  for (const char* never : {"Set-Cookie", "X-GitHub-Request-Id", "Server"})
    EXPECT_EQ(find_header(h, never), nullptr) << never;
}

TEST(ApiHeaders, ALinkOnlyUnderTheApiBaseIsKept) {
  const char* base = "https://gitlab.example.com/api/v4";
  const char* relay = "https://www.example.com/auth/api/gitlab";
  EXPECT_EQ(rewrite_link("<https://gitlab.example.com/api/v4/projects?page=2>; rel=\"next\"", base, relay),
            "<https://www.example.com/auth/api/gitlab/projects?page=2>; rel=\"next\"");
  EXPECT_EQ(rewrite_link("<https://gitlab.example.com/api/v40/x>; rel=\"next\"", base, relay), "");
  EXPECT_EQ(rewrite_link("<https://gitlab.example.com/admin>; rel=\"next\"", base, relay), "");
  EXPECT_EQ(rewrite_link("<https://gitlab.example.com/api/v4/../../admin>; rel=\"next\"", base, relay), "");
  EXPECT_EQ(rewrite_link("<https://gitlab.example.com/api/v4/a>; title=\"x, y\", "
                         "<https://gitlab.example.com/api/v4/b>; rel=\"last\"",
                         base, relay),
            "<https://www.example.com/auth/api/gitlab/a>; title=\"x, y\", "
            "<https://www.example.com/auth/api/gitlab/b>; rel=\"last\"");
}

// Found by fuzz_parsers: an unbalanced quote made the next entry, foreign URL and all,
// part of a kept entry's parameters.
TEST(ApiHeaders, ALinkWhoseParametersHoldAUrlIsDropped) {
  EXPECT_EQ(rewrite_link("<https://api.example.com/v1/a>; rel=\"next+ <https://evil.example/x>; rel=\"last\"",
                         "https://api.example.com/v1", "https://www.example.com/auth/api/gh"),
            "");
}
