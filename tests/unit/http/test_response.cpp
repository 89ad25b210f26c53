#include "response.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace oauthfcgi;

namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size()))
    ++n;
  return n;
}

// Header lines of a serialized response (up to the blank line).
std::vector<std::string> header_lines(const std::string& out) {
  std::vector<std::string> lines;
  size_t end = out.find("\r\n\r\n");
  std::string head = out.substr(0, end);
  size_t start = 0;
  while (true) {
    size_t p = head.find("\r\n", start);
    lines.push_back(head.substr(start, p - start));
    if (p == std::string::npos) break;
    start = p + 2;
  }
  return lines;
}

// True when no header line other than the expected ones exists and no bare CR/LF hides
// in the header block.
void expect_no_injection(const std::string& out) {
  std::string head = out.substr(0, out.find("\r\n\r\n"));
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\r') {
      ASSERT_LT(i + 1, head.size());
      EXPECT_EQ(head[i + 1], '\n');
    }
    if (head[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(head[i - 1], '\r');
    }
  }
  for (const auto& line : header_lines(out)) {
    EXPECT_NE(line.rfind("Injected", 0), 0u) << line;
    EXPECT_NE(line.rfind("Set-Cookie: evil", 0), 0u) << line;
  }
  EXPECT_EQ(out.find('\0'), std::string::npos);
}

} // namespace

TEST(Response, SerializeHasStatusLineAndSecurityHeadersOnce) {
  Response r = Response::redirect(302, "/next");
  std::string out = r.serialize();
  EXPECT_EQ(out.rfind("Status: 302 Found\r\n", 0), 0u);
  EXPECT_EQ(count(out, "Cache-Control: no-store\r\n"), 1u);
  EXPECT_EQ(count(out, "X-Content-Type-Options: nosniff\r\n"), 1u);
  EXPECT_EQ(count(out, "X-Frame-Options: DENY\r\n"), 1u);
  EXPECT_EQ(count(out, "Location: /next\r\n"), 1u);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n"); // no body
  EXPECT_EQ(out.find("\r\nContent-Type"), std::string::npos);
}

TEST(Response, HandlerSetCacheControlIsNotDuplicated) {
  Response r;
  r.add_header("cache-control", "private, max-age=60");
  r.add_header("X-Frame-Options", "SAMEORIGIN");
  std::string out = r.serialize();
  EXPECT_EQ(count(out, "Cache-Control"), 0u);
  EXPECT_EQ(count(out, "cache-control: private, max-age=60\r\n"), 1u);
  EXPECT_EQ(count(out, "X-Frame-Options"), 1u);
  EXPECT_EQ(count(out, "X-Content-Type-Options: nosniff"), 1u);
}

TEST(Response, BodyGetsDefaultContentType) {
  Response r;
  r.body = "hello";
  std::string out = r.serialize();
  EXPECT_EQ(out.rfind("Status: 200 OK\r\n", 0), 0u);
  EXPECT_NE(out.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 9), "\r\n\r\nhello");

  Response j = Response::json(200, "{}");
  std::string jout = j.serialize();
  EXPECT_EQ(count(jout, "\r\nContent-Type"), 1u);
  EXPECT_NE(jout.find("Content-Type: application/json\r\n"), std::string::npos);
}

TEST(Response, HeaderLookupIsCaseInsensitive) {
  Response r;
  r.add_header("X-Auth-User", "alice");
  ASSERT_NE(r.header("x-auth-user"), nullptr);
  EXPECT_EQ(*r.header("x-auth-user"), "alice");
  EXPECT_EQ(r.header("X-Auth-Email"), nullptr);
}

TEST(Response, CrlfInHeaderValueNeverMakesANewHeader) {
  Response r;
  r.add_header("X-Test", "a\r\nInjected: 1");
  r.add_header("X-Other\r\nInjected", "2");
  r.add_header("X-Nul", std::string("a\0b\nInjected: 3", 15));
  r.add_header("X-Lf", "a\nInjected: 4\rInjected: 5");
  std::string out = r.serialize();
  expect_no_injection(out);
  EXPECT_NE(out.find("X-Test: aInjected: 1\r\n"), std::string::npos);
  EXPECT_EQ(*r.header("X-Nul"), "abInjected: 3");
}

TEST(Response, CrlfInLocationNeverMakesANewHeader) {
  Response r = Response::redirect(302, "/ok\r\nSet-Cookie: evil=1");
  std::string out = r.serialize();
  expect_no_injection(out);
  EXPECT_EQ(count(out, "\r\nSet-Cookie"), 0u);
  EXPECT_EQ(*r.header("Location"), "/okSet-Cookie: evil=1");
}

TEST(Response, CrlfInCookieNeverMakesANewHeader) {
  Response r;
  r.set_cookie({"s\r\nInjected", "v\r\nSet-Cookie: evil=1", std::nullopt, true, true, "Lax\r\nInjected: x",
                "/\r\nInjected: y"});
  std::string out = r.serialize();
  expect_no_injection(out);
  EXPECT_EQ(count(out, "\r\nSet-Cookie:"), 1u);
  // Nor can a value add cookie attributes.
  Response r2;
  r2.set_cookie({"s", "v; Domain=evil.example", 60});
  EXPECT_EQ(r2.header("Set-Cookie")->find("; Domain"), std::string::npos);
}

TEST(Response, CookieAttributes) {
  Response r;
  Cookie c;
  c.name = "__Host-oauth_session";
  c.value = "abc123";
  c.max_age = 86400;
  c.secure = true;
  r.set_cookie(c);
  EXPECT_EQ(*r.header("Set-Cookie"),
            "__Host-oauth_session=abc123; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax");
}

TEST(Response, SessionCookieHasNoMaxAge) {
  Response r;
  Cookie c;
  c.name = "s";
  c.value = "v";
  r.set_cookie(c);
  EXPECT_EQ(*r.header("Set-Cookie"), "s=v; Path=/; HttpOnly; SameSite=Lax");
}

TEST(Response, ExpiredCookieAlsoHasExpires) {
  Response r;
  Cookie c{"s", "", 0};
  c.secure = true;
  r.set_cookie(c);
  EXPECT_EQ(*r.header("Set-Cookie"),
            "s=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax");
}

TEST(Response, HtmlPageEscapesEverything) {
  Response r = Response::html_page(400, "<script>t</script>", "<script>alert('x')</script> & \"q\"",
                                   "/auth/connect?a=1&b=\"><script>", "<b>again</b>");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.find("<script>"), std::string::npos);
  EXPECT_NE(r.body.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"),
            std::string::npos);
  EXPECT_NE(r.body.find("href=\"/auth/connect?a=1&amp;b=&quot;&gt;&lt;script&gt;\""), std::string::npos);
  EXPECT_NE(r.body.find("&lt;b&gt;again&lt;/b&gt;</a>"), std::string::npos);
  EXPECT_EQ(r.body.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(r.body.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_EQ(*r.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(*r.header("Content-Security-Policy"), "default-src 'none'; style-src 'unsafe-inline'");
}

TEST(Response, HtmlPageWithoutLinkHasNoAnchor) {
  Response r = Response::html_page(200, "Signed out", "Bye");
  EXPECT_EQ(r.body.find("<a "), std::string::npos);
}

TEST(Response, ErrorResponseHtml) {
  Response r = error_response({ErrorKind::bad_request, "the state is unknown or used"}, ErrorStyle::html,
                              "/auth/connect");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(*r.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<title>Bad Request</title>"), std::string::npos);
  EXPECT_NE(r.body.find("the state is unknown or used"), std::string::npos);
  EXPECT_NE(r.body.find("<a href=\"/auth/connect\">Start again</a>"), std::string::npos);
}

TEST(Response, ErrorResponseJson) {
  Response b = error_response({ErrorKind::bad_request, "refresh must be 1 or 0, \"x\"\n"}, ErrorStyle::json);
  EXPECT_EQ(b.status, 400);
  EXPECT_EQ(*b.header("Content-Type"), "application/json");
  EXPECT_EQ(b.body, R"({"error":"bad_request","message":"refresh must be 1 or 0, \"x\"\n"})");
  Response r = error_response({ErrorKind::provider_error, "api.github.com at 10.0.0.7 said \"no\""},
                              ErrorStyle::json, {}, {"GitHub", "3f2a9c0d1e4b5a67"});
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(
      r.body,
      R"({"error":"provider_error","message":"GitHub answered with something we could not use.","request_id":"3f2a9c0d1e4b5a67"})");
  Response u = error_response({ErrorKind::unauthenticated, "the session expired"}, ErrorStyle::json);
  EXPECT_EQ(u.status, 401);
  EXPECT_EQ(u.body, R"({"error":"unauthenticated"})");
}

TEST(Response, FiveHundredsSayWhatHappenedInGeneralAndNeverTheReason) {
  const std::pair<ErrorKind, const char*> kinds[] = {
      {ErrorKind::provider_error, "GitHub answered with something we could not use."},
      {ErrorKind::token_rejected, "GitHub answered with something we could not use."},
      {ErrorKind::provider_timeout, "GitHub did not answer in time."},
      {ErrorKind::store_unavailable, "Sign-in is unavailable for a moment."},
      {ErrorKind::internal, "Something went wrong on our side."},
  };
  for (auto [kind, said] : kinds) {
    Response r = error_response({kind, "redis at 127.0.0.1:6379: Connection refused"}, ErrorStyle::html,
                                "/auth/connect", {"GitHub", "3f2a9c0d1e4b5a67"});
    EXPECT_NE(r.body.find(said), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("request id: 3f2a9c0d1e4b5a67"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("Connection refused"), std::string::npos) << r.body;
  }
  EXPECT_EQ(public_message({ErrorKind::provider_timeout, "x"}),
            "The sign-in provider did not answer in time.");
  EXPECT_EQ(public_message({ErrorKind::forbidden, "not in the org"}, "GitHub"), "not in the org");
}

TEST(Response, ErrorResponseStatusOnly) {
  Response r = error_response({ErrorKind::forbidden, "not in the org"}, ErrorStyle::status_only);
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.serialize().rfind("Status: 403 Forbidden\r\n", 0), 0u);
}

TEST(Response, ErrorResponseStatusForEveryKind) {
  const std::pair<ErrorKind, int> kinds[] = {
      {ErrorKind::bad_request, 400},
      {ErrorKind::unauthenticated, 401},
      {ErrorKind::forbidden, 403},
      {ErrorKind::not_found, 404},
      {ErrorKind::method_not_allowed, 405},
      {ErrorKind::body_too_large, 413},
      {ErrorKind::uri_too_long, 414},
      {ErrorKind::headers_too_large, 431},
      {ErrorKind::too_many_requests, 429},
      {ErrorKind::provider_error, 502},
      {ErrorKind::provider_timeout, 504},
      {ErrorKind::store_unavailable, 503},
      {ErrorKind::config, 500},
      {ErrorKind::internal, 500},
  };
  for (auto [kind, status] : kinds) {
    for (auto style : {ErrorStyle::html, ErrorStyle::json, ErrorStyle::status_only}) {
      Response r = error_response({kind, "why"}, style);
      EXPECT_EQ(r.status, status) << error_kind_name(kind);
      std::string out = r.serialize();
      EXPECT_EQ(out.rfind("Status: " + std::to_string(status) + " " + status_text(status) + "\r\n", 0), 0u);
      EXPECT_EQ(count(out, "Cache-Control: no-store"), 1u);
      if (style == ErrorStyle::json && status != 401) {
        EXPECT_NE(r.body.find(std::string("\"error\":\"") + error_kind_name(kind) + "\""), std::string::npos);
      }
    }
  }
}

TEST(Response, HtmlEscape) {
  EXPECT_EQ(html_escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  EXPECT_EQ(html_escape("plain text é"), "plain text é");
}

TEST(Response, JsonEscape) {
  EXPECT_EQ(json_escape("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(json_escape(std::string("\x01\n\t\x1f\0", 5)), "\\u0001\\n\\t\\u001f\\u0000");
  EXPECT_EQ(json_escape("é/<>"), "é/<>");
}
