#include "cookie.hpp"
#include "request.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace oauthfcgi;

namespace {

Request make(Request::Env env, std::string body = {}) {
  return Request(std::move(env), std::move(body));
}

ErrorKind limit_error(const Request::Env& env, const LimitsConfig& limits = {}) {
  auto r = check_limits(env, limits);
  EXPECT_FALSE(r.ok());
  return r.ok() ? ErrorKind::internal : r.error().kind;
}

} // namespace

TEST(Request, MethodDefaultsToGet) {
  EXPECT_EQ(make({}).method(), "GET");
  EXPECT_EQ(make({{"REQUEST_METHOD", ""}}).method(), "GET");
  EXPECT_EQ(make({{"REQUEST_METHOD", "POST"}}).method(), "POST");
}

TEST(Request, RouteIsScriptNamePlusPathInfo) {
  auto r = make({{"SCRIPT_NAME", "/auth/connect"}, {"PATH_INFO", "/github"}});
  EXPECT_EQ(r.route(), "/auth/connect/github");
  EXPECT_EQ(make({{"SCRIPT_NAME", "/auth/profile"}}).route(), "/auth/profile");
  EXPECT_EQ(make({{"PATH_INFO", "/auth/profile"}}).route(), "/auth/profile");
}

TEST(Request, RouteFallsBackToDocumentUriWhenBothEmpty) {
  auto r = make({{"SCRIPT_NAME", ""}, {"PATH_INFO", ""}, {"DOCUMENT_URI", "/auth/callback/github"}});
  EXPECT_EQ(r.route(), "/auth/callback/github");
  EXPECT_EQ(make({{"DOCUMENT_URI", "/auth/check?x=1"}}).route(), "/auth/check");
  // SCRIPT_NAME wins over DOCUMENT_URI when present.
  EXPECT_EQ(make({{"SCRIPT_NAME", "/a"}, {"DOCUMENT_URI", "/b"}}).route(), "/a");
}

TEST(Request, RequestUriIsNeverTheRoute) {
  // Under nginx auth_request, REQUEST_URI is the protected page's URI.
  auto r = make({{"REQUEST_URI", "/private/page?x=1"}, {"SCRIPT_NAME", "/auth/check"}});
  EXPECT_EQ(r.route(), "/auth/check");
  EXPECT_EQ(make({{"REQUEST_URI", "/private/page"}}).route(), "");
  ASSERT_TRUE(r.param("REQUEST_URI"));
  EXPECT_EQ(*r.param("REQUEST_URI"), "/private/page?x=1");
}

TEST(Request, QueryComesFromQueryString) {
  auto r = make({{"QUERY_STRING", "code=abc&state=x%20y"}, {"REQUEST_URI", "/cb?code=evil"}});
  EXPECT_EQ(r.query_string(), "code=abc&state=x%20y");
  auto code = r.query_param("code");
  EXPECT_EQ(code.state, ParamState::single);
  EXPECT_EQ(code.value, "abc");
  EXPECT_EQ(r.query_param("state").value, "x y");
  EXPECT_EQ(r.query_param("missing").state, ParamState::missing);
}

TEST(Request, DuplicatedQueryParameterIsDetected) {
  auto r = make({{"QUERY_STRING", "state=a&code=1&state=b"}});
  EXPECT_EQ(r.query_param("state").state, ParamState::duplicated);
  EXPECT_EQ(r.query_param("code").state, ParamState::single);
}

TEST(Request, CookieFoundAmongOthers) {
  auto r = make({{"HTTP_COOKIE", "a=1; oauth_session=abc-DEF_123;b=2"}});
  EXPECT_EQ(r.cookie("oauth_session"), "abc-DEF_123");
  EXPECT_EQ(r.cookie("a"), "1");
  EXPECT_EQ(r.cookie("b"), "2");
}

TEST(Request, CookieMissing) {
  EXPECT_EQ(make({}).cookie("s"), std::nullopt);
  EXPECT_EQ(make({{"HTTP_COOKIE", ""}}).cookie("s"), std::nullopt);
  EXPECT_EQ(make({{"HTTP_COOKIE", "ss=1; s_=2"}}).cookie("s"), std::nullopt);
  EXPECT_EQ(make({{"HTTP_COOKIE", "S=1"}}).cookie("s"), std::nullopt); // names are case-sensitive
}

TEST(Request, CookieSentTwiceIsRefused) {
  EXPECT_EQ(make({{"HTTP_COOKIE", "s=1; s=2"}}).cookie("s"), std::nullopt);
  EXPECT_EQ(make({{"HTTP_COOKIE", "s=1; x=0; s=1"}}).cookie("s"), std::nullopt);
  EXPECT_EQ(make({{"HTTP_COOKIE", "s; s=1"}}).cookie("s"), std::nullopt);
}

TEST(Request, HeaderNameMapsToHttpParam) {
  auto r = make({{"HTTP_ORIGIN", "https://example.com"},
                 {"HTTP_X_FORWARDED_FOR", "1.2.3.4"},
                 {"CONTENT_TYPE", "application/x-www-form-urlencoded"},
                 {"CONTENT_LENGTH", "12"},
                 {"HTTP_CONTENT_TYPE", "wrong"}});
  ASSERT_TRUE(r.header("Origin"));
  EXPECT_EQ(*r.header("Origin"), "https://example.com");
  EXPECT_EQ(*r.header("origin"), "https://example.com");
  EXPECT_EQ(*r.header("X-Forwarded-For"), "1.2.3.4");
  EXPECT_EQ(*r.header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(*r.header("content-length"), "12");
  EXPECT_EQ(r.header("Referer"), std::nullopt);
  EXPECT_EQ(r.param("HTTP_ORIGIN"), r.header("Origin"));
  EXPECT_EQ(r.param("NOPE"), std::nullopt);
}

TEST(Request, BodyIsKept) {
  EXPECT_EQ(make({}, "a=1").body(), "a=1");
}

TEST(Limits, SmallRequestPasses) {
  Request::Env env{{"QUERY_STRING", "a=1"}, {"HTTP_COOKIE", "s=1"}, {"CONTENT_LENGTH", "10"}};
  EXPECT_TRUE(check_limits(env, {}).ok());
  EXPECT_TRUE(check_limits({}, {}).ok());
  EXPECT_TRUE(check_limits({{"CONTENT_LENGTH", ""}}, {}).ok()); // nginx sends it empty for GET
}

TEST(Limits, LongQueryIsUriTooLong) {
  LimitsConfig limits;
  Request::Env env{{"QUERY_STRING", std::string(9000, 'a')}};
  auto r = check_limits(env, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::uri_too_long);
  EXPECT_EQ(http_status(r.error().kind), 414);
  EXPECT_EQ(r.error().reason, "query string is 9000 bytes; the limit is max_query_bytes = 8192");
  EXPECT_TRUE(check_limits({{"QUERY_STRING", std::string(8192, 'a')}}, limits).ok());
}

TEST(Limits, LargeCookieIsHeadersTooLarge) {
  LimitsConfig limits;
  limits.max_cookie_bytes = 100;
  auto r = check_limits({{"HTTP_COOKIE", std::string(101, 'c')}}, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::headers_too_large);
  EXPECT_EQ(http_status(r.error().kind), 431);
  EXPECT_NE(r.error().reason.find("max_cookie_bytes = 100"), std::string::npos);
}

TEST(Limits, AllHeadersTogetherAreCounted) {
  LimitsConfig limits;
  limits.max_header_bytes = 1000;
  Request::Env env;
  for (int i = 0; i < 10; ++i)
    env["HTTP_X_H" + std::to_string(i)] = std::string(100, 'v');
  env["QUERY_STRING"] = std::string(5000, 'q'); // not a header
  auto r = check_limits(env, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::headers_too_large);
  EXPECT_NE(r.error().reason.find("max_header_bytes = 1000"), std::string::npos);
  env.erase("HTTP_X_H9");
  env.erase("HTTP_X_H8");
  EXPECT_TRUE(check_limits(env, limits).ok());
}

TEST(Limits, LargeContentLengthIsBodyTooLarge) {
  EXPECT_EQ(limit_error({{"CONTENT_LENGTH", "65537"}}), ErrorKind::body_too_large);
  EXPECT_EQ(limit_error({{"CONTENT_LENGTH", "99999999999999999999999999"}}), ErrorKind::body_too_large);
  EXPECT_EQ(http_status(ErrorKind::body_too_large), 413);
  EXPECT_TRUE(check_limits({{"CONTENT_LENGTH", "65536"}}, {}).ok());
  auto r = check_limits({{"CONTENT_LENGTH", "70000"}}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "request body is 70000 bytes; the limit is max_body_bytes = 65536");
}

TEST(Limits, BadContentLengthIsBadRequest) {
  for (const char* v : {"-1", "+5", " 5", "5 ", "0x10", "abc", "1e3", "5;"})
    EXPECT_EQ(limit_error({{"CONTENT_LENGTH", v}}), ErrorKind::bad_request) << v;
}

TEST(Limits, ContentLengthParsedStrictly) {
  EXPECT_EQ(*content_length({}), 0u);
  EXPECT_EQ(*content_length({{"CONTENT_LENGTH", ""}}), 0u);
  EXPECT_EQ(*content_length({{"CONTENT_LENGTH", "0"}}), 0u);
  EXPECT_EQ(*content_length({{"CONTENT_LENGTH", "1234"}}), 1234u);
  EXPECT_FALSE(content_length({{"CONTENT_LENGTH", "12a"}}).ok());
}

TEST(Limits, QueryCheckedFirst) {
  Request::Env env{{"QUERY_STRING", std::string(9000, 'a')},
                   {"HTTP_COOKIE", std::string(9000, 'c')},
                   {"CONTENT_LENGTH", "999999"}};
  EXPECT_EQ(limit_error(env), ErrorKind::uri_too_long);
}

TEST(Request, GarbageEnvironmentDoesNotCrash) {
  std::mt19937 rng(12345);
  auto garbage = [&](size_t max) {
    std::string s(rng() % max, '\0');
    for (auto& c : s)
      c = static_cast<char>(rng() % 256);
    return s;
  };
  const char* names[] = {"REQUEST_METHOD", "SCRIPT_NAME",    "PATH_INFO",   "DOCUMENT_URI", "QUERY_STRING",
                         "HTTP_COOKIE",    "CONTENT_LENGTH", "HTTP_ORIGIN", "CONTENT_TYPE"};
  for (int i = 0; i < 2000; ++i) {
    Request::Env env;
    for (const char* n : names)
      if (rng() % 2) env[n] = garbage(64);
    env[garbage(16)] = garbage(32);
    Request r(env, garbage(32));
    (void)r.route();
    (void)r.query();
    (void)r.cookie(garbage(8));
    (void)r.cookie("s");
    (void)r.header(garbage(8));
    (void)check_limits(env, {});
    (void)parse_cookie(garbage(128), garbage(4));
  }
  SUCCEED();
}

TEST(Env, FromEnvpKeepsFirstOfANameAndSkipsStringsWithoutEquals) {
  const char* envp[] = {"CONTENT_LENGTH=", "NOEQUALS", "QUERY_STRING=a=1&b==", "CONTENT_LENGTH=12", "HTTP_X=",
                        "=nameless",       nullptr};
  auto env = Request::Env::from_envp(envp);
  EXPECT_EQ(env.size(), 5u);
  EXPECT_EQ(env.find("CONTENT_LENGTH"), "");
  EXPECT_EQ(env.find("QUERY_STRING"), "a=1&b==");
  EXPECT_EQ(env.find("HTTP_X"), "");
  EXPECT_EQ(env.find(""), "nameless");
  EXPECT_EQ(env.find("NOEQUALS"), std::nullopt);
  EXPECT_EQ(env.find("HTTP"), std::nullopt);
  EXPECT_EQ(Request::Env::from_envp(nullptr).size(), 0u);
}

TEST(Env, ListKeepsFirstOfANameAndSetReplacesIt) {
  Request::Env env{{"A", "1"}, {"B", "2"}, {"A", "3"}};
  EXPECT_EQ(env.find("A"), "1");
  env["A"] = "4";
  EXPECT_EQ(env.find("A"), "4");
  EXPECT_EQ(env.size(), 2u);
  env.erase("B");
  EXPECT_EQ(env.find("B"), std::nullopt);
  std::string all;
  for (auto [name, value] : env)
    all += std::string(name) + "=" + std::string(value) + ";";
  EXPECT_EQ(all, "A=4;");
}

TEST(Env, CopiesAndMovesOwnTheirBytes) {
  std::string value = "short";
  Request::Env a{{"V", value}};
  value = "changed";
  Request::Env b = a;
  Request::Env c = std::move(a);
  a = Request::Env{{"V", "other"}};
  EXPECT_EQ(b.find("V"), "short");
  EXPECT_EQ(c.find("V"), "short");
  EXPECT_EQ(a.find("V"), "other");
}

TEST(Limits, DuplicateHeadersCountEachTime) {
  LimitsConfig limits;
  limits.max_header_bytes = 80; // each is 46 bytes
  const char* envp[] = {"HTTP_X=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                        "HTTP_X=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nullptr};
  EXPECT_EQ(limit_error(Request::Env::from_envp(envp), limits), ErrorKind::headers_too_large);
}
