#include "url.hpp"

#include <gtest/gtest.h>

#include <curl/curl.h>

#include <memory>

using namespace oauthfcgi;

namespace {

// libcurl's own answer, the reference url.cpp must match byte for byte.
// base + query the way append_query did it before it spliced: CURLU parse, append, reassemble.
std::string curlu_append(const std::string& base, const std::string& query) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> h(curl_url(), &curl_url_cleanup);
  char* out = nullptr;
  if (curl_url_set(h.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(h.get(), CURLUPART_QUERY, query.c_str(), CURLU_APPENDQUERY) != CURLUE_OK ||
      curl_url_get(h.get(), CURLUPART_URL, &out, 0) != CURLUE_OK)
    return "(curl refused)";
  std::string s(out);
  curl_free(out);
  return s;
}

} // namespace

// ---- url_encode / url_decode ------------------------------------------------------

TEST(UrlEncode, KeepsUnreservedCharacters) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
}

TEST(UrlEncode, EscapesEverythingElse) {
  EXPECT_EQ(url_encode("a b&c=d/e?f#g+h%"), "a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%25");
  EXPECT_EQ(url_encode("\xC3\xA9"), "%C3%A9");
}

TEST(UrlEncode, EmptyAndEmbeddedNul) {
  EXPECT_EQ(url_encode(""), "");
  EXPECT_EQ(url_encode(std::string_view("a\0b", 3)), "a%00b");
}

TEST(UrlDecode, RoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  EXPECT_EQ(url_decode(url_encode(all)), all);
  EXPECT_EQ(url_decode(url_encode(all), false), all);
}

TEST(UrlDecode, PlusIsSpaceOnlyInFormMode) {
  EXPECT_EQ(url_decode("a+b%2B"), "a b+");
  EXPECT_EQ(url_decode("a+b%2B", false), "a+b+");
}

TEST(UrlDecode, MalformedEscapesAreKeptLiterally) {
  EXPECT_EQ(url_decode("%G1"), "%G1");
  EXPECT_EQ(url_decode("%4"), "%4");
  EXPECT_EQ(url_decode("abc%"), "abc%");
  EXPECT_EQ(url_decode("%%41"), "%A");
  EXPECT_EQ(url_decode("%zz%41"), "%zzA");
}

TEST(UrlDecode, LowerAndUpperHex) {
  EXPECT_EQ(url_decode("%2f%2F"), "//");
}

// ---- parse_query / build_query / find_param -------------------------------------------

TEST(ParseQuery, KeepsOrderAndDuplicates) {
  Params p = parse_query("b=2&a=1&b=3");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], Param("b", "2"));
  EXPECT_EQ(p[1], Param("a", "1"));
  EXPECT_EQ(p[2], Param("b", "3"));
}

TEST(ParseQuery, KeyWithoutEqualsHasEmptyValueAndEmptySegmentsAreSkipped) {
  Params p = parse_query("&&flag&x=&=v&&");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], Param("flag", ""));
  EXPECT_EQ(p[1], Param("x", ""));
  EXPECT_EQ(p[2], Param("", "v"));
  EXPECT_TRUE(parse_query("").empty());
}

TEST(ParseQuery, DecodesKeysAndValuesAndSplitsAtFirstEquals) {
  Params p = parse_query("return%5Fto=%2Fa%3Fb%3Dc+d&k=a=b");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], Param("return_to", "/a?b=c d"));
  EXPECT_EQ(p[1], Param("k", "a=b"));
}

TEST(BuildQuery, EncodesKeysAndValuesAndRoundTrips) {
  Params p = {{"a b", "c&d"}, {"e", ""}, {"e", "=+"}};
  std::string q = build_query(p);
  EXPECT_EQ(q, "a%20b=c%26d&e=&e=%3D%2B");
  EXPECT_EQ(parse_query(q), p);
  EXPECT_EQ(build_query({}), "");
}

TEST(FindParam, MissingSingleAndDuplicated) {
  Params p = parse_query("a=1&b=2&a=3&c=");
  EXPECT_EQ(find_param(p, "x").state, ParamState::missing);
  auto b = find_param(p, "b");
  EXPECT_EQ(b.state, ParamState::single);
  EXPECT_EQ(b.value, "2");
  auto a = find_param(p, "a");
  EXPECT_EQ(a.state, ParamState::duplicated);
  EXPECT_EQ(a.value, "");
  auto c = find_param(p, "c");
  EXPECT_EQ(c.state, ParamState::single);
  EXPECT_EQ(c.value, "");
}

// ---- parse_url ----------------------------------------------------------------------

TEST(ParseUrl, FillsDefaultPortsAndRootPath) {
  auto u = parse_url("https://example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->query, "");
  auto h = parse_url("http://example.com");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->port, 80);
}

TEST(ParseUrl, ExplicitPortPathAndQuery) {
  auto u = parse_url("http://example.com:8080/a/b?x=1&y=2#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/a/b");
  EXPECT_EQ(u->query, "x=1&y=2");
}

TEST(ParseUrl, LowerCasesSchemeAndHost) {
  auto u = parse_url("HTTPS://WWW.Example.COM/Path");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "www.example.com");
  EXPECT_EQ(u->path, "/Path");
}

TEST(ParseUrl, Ipv6HostHasNoBrackets) {
  auto u = parse_url("http://[::1]:9000/cb");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
}

TEST(ParseUrl, NumericIpv4FormsAreNormalisedByCurl) {
  // curl connects to 127.0.0.1 for these, so that is the host we report.
  auto u = parse_url("http://0x7f000001/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_TRUE(is_loopback_host(u->host));
}

TEST(ParseUrl, RejectsOtherSchemesRelativeAndGarbage) {
  for (const char* bad :
       {"ftp://example.com/", "javascript:alert(1)", "/relative/path", "example.com/x", "//example.com/x", "",
        "https://", "https:///path", "http:/example.com/", "http:example.com", "https://exa mple.com/",
        "https://example.com/\n", "https://example.com:99999/", "https://example.com:0/", "https://a\\b.com/",
        "not a url at all", "mailto:a@b.c"}) {
    EXPECT_FALSE(parse_url(bad).ok()) << bad;
  }
}

TEST(ParseUrl, RejectsEmbeddedNul) {
  EXPECT_FALSE(parse_url(std::string_view("https://a.com\0.evil.com/", 25)).ok());
}

// ---- append_query -------------------------------------------------------------------

TEST(AppendQuery, AddsQuestionMarkWhenThereIsNoQuery) {
  auto r = append_query("https://idp.example.com/authorize", {{"client_id", "a b"}, {"state", "x&y"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "https://idp.example.com/authorize?client_id=a%20b&state=x%26y");
}

TEST(AppendQuery, AddsAmpersandToAnExistingQueryAndKeepsTheFragmentLast) {
  auto r = append_query("https://idp.example.com/auth?tenant=7#f", {{"state", "s"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "https://idp.example.com/auth?tenant=7&state=s#f");
  auto trailing = append_query("https://idp.example.com/auth?tenant=7&", {{"a", "1"}});
  ASSERT_TRUE(trailing.ok());
  EXPECT_EQ(*trailing, "https://idp.example.com/auth?tenant=7&a=1");
}

TEST(AppendQuery, ResultParsesBackToAllParams) {
  auto r = append_query("http://127.0.0.1:8080/x?a=1", {{"b", "/p?q=1"}, {"a", "2"}});
  ASSERT_TRUE(r.ok());
  auto u = parse_url(*r);
  ASSERT_TRUE(u.ok());
  Params expected = {{"a", "1"}, {"b", "/p?q=1"}, {"a", "2"}};
  EXPECT_EQ(parse_query(u->query), expected);
}

TEST(AppendQuery, SplicedUrlsAreCurlusBytes) {
  // Bases curl leaves alone and bases it rewrites (case, dot segments, "127.1", an empty
  // '?' or '#', the port); parameters that need escaping. The second call of each pair
  // comes from the thread's splice, the first made it.
  const char* bases[] = {"https://github.com/login/oauth/authorize",
                         "https://idp.example.com/auth?tenant=7",
                         "https://idp.example.com/auth?tenant=7&",
                         "https://idp.example.com/auth?",
                         "https://idp.example.com/auth?a=%7E%41#frag",
                         "https://idp.example.com/auth#",
                         "https://idp.example.com",
                         "HTTPS://IdP.Example.COM/a/../b/./authorize",
                         "https://idp.example.com:443/authorize",
                         "http://127.1:8080/authorize",
                         "http://[::1]:9000/o/authorize?x=1",
                         "https://user:pw@idp.example.com/p%20q/authorize"};
  Params params = {{"response_type", "code"},
                   {"redirect_uri", "https://www.example.com/auth/callback/github?x=1&y=2"},
                   {"scope", "read:user user:email"},
                   {"state", "AZaz09-._~"},
                   {"n\xC3\xA9", "#&=+%/?\x7F "}};
  for (const char* base : bases) {
    std::string want = curlu_append(base, build_query(params));
    for (int round = 0; round < 2; ++round) {
      auto got = append_query(base, params);
      ASSERT_TRUE(got.ok()) << base << ": " << got.error().reason;
      EXPECT_EQ(*got, want) << base << " (round " << round << ")";
    }
  }
}

TEST(AppendQuery, ManyBasesOutgrowTheSpliceCacheAndStayRight) {
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 40; ++i) {
      std::string base = "https://idp" + std::to_string(i) + ".example/authorize" + (i % 2 ? "?t=1" : "");
      auto got = append_query(base, {{"state", std::to_string(i) + ":x"}});
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(*got, curlu_append(base, "state=" + std::to_string(i) + "%3Ax"));
    }
  }
}

TEST(AppendQuery, ABadBaseIsRefusedEveryTime) {
  for (int round = 0; round < 2; ++round)
    EXPECT_FALSE(append_query("https://idp.example:99999/x", {{"a", "1"}}).ok());
}

TEST(AppendQuery, WorksOnLocalPaths) {
  EXPECT_EQ(*append_query("/auth/connect", {{"return_to", "/a b"}}), "/auth/connect?return_to=%2Fa%20b");
  EXPECT_EQ(*append_query("/p?x=1#top", {{"y", "2"}}), "/p?x=1&y=2#top");
}

TEST(AppendQuery, NoParamsLeavesTheUrlAsIs) {
  EXPECT_EQ(*append_query("https://a.example/x?y=1", {}), "https://a.example/x?y=1");
}

TEST(AppendQuery, RejectsNonHttpAndProtocolRelative) {
  EXPECT_FALSE(append_query("ftp://a.example/", {{"a", "1"}}).ok());
  EXPECT_FALSE(append_query("//evil.example/", {{"a", "1"}}).ok());
  EXPECT_FALSE(append_query("nonsense", {{"a", "1"}}).ok());
}

// ---- is_loopback_host ---------------------------------------------------------------

TEST(IsLoopbackHost, AcceptsLocalhostThe127NetAndIpv6Loopback) {
  for (const char* h : {"localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "[::1]",
                        "0:0:0:0:0:0:0:1"}) {
    EXPECT_TRUE(is_loopback_host(h)) << h;
  }
}

// Decision: only canonical spellings count. Short, hex, octal and decimal-integer IPv4 forms
// are refused here; parse_url normalises them first (see NumericIpv4FormsAreNormalisedByCurl).
TEST(IsLoopbackHost, RefusesLookalikesAndNonCanonicalForms) {
  for (const char* h : {"127.0.0.1.evil.com",
                        "localhost.evil.com",
                        "evil-localhost",
                        "foo.localhost",
                        "0x7f000001",
                        "2130706433",
                        "127.1",
                        "0177.0.0.1",
                        "127.0.0.01",
                        "127.0.0.256",
                        "128.0.0.1",
                        "10.0.0.1",
                        "0.0.0.0",
                        "::",
                        "::2",
                        "[::1",
                        "",
                        "127.0.0.1.",
                        "127..0.1",
                        "127.0.0.1:80",
                        "example.com"}) {
    EXPECT_FALSE(is_loopback_host(h)) << h;
  }
}

// ---- url_origin ---------------------------------------------------------------------

TEST(UrlOrigin, OmitsDefaultPortsAndDropsPathAndQuery) {
  EXPECT_EQ(*url_origin("https://WWW.Example.com:443/a?b#c"), "https://www.example.com");
  EXPECT_EQ(*url_origin("http://example.com:80/"), "http://example.com");
  EXPECT_EQ(*url_origin("http://example.com:8080/x"), "http://example.com:8080");
  EXPECT_EQ(*url_origin("https://example.com:80"), "https://example.com:80");
}

TEST(UrlOrigin, PutsIpv6InBrackets) {
  EXPECT_EQ(*url_origin("http://[::1]:8080/cb"), "http://[::1]:8080");
  EXPECT_EQ(*url_origin("https://[2001:db8::1]/"), "https://[2001:db8::1]");
}

TEST(UrlOrigin, RejectsWhatParseUrlRejects) {
  EXPECT_FALSE(url_origin("/local").ok());
  EXPECT_FALSE(url_origin("ftp://x.example/").ok());
}

// allow_urls (issue 18 item 9): what only looks like it is under a prefix is not.
TEST(UrlUnderPrefix, AdmitsThePrefixAndBelowAtASegmentBoundary) {
  const std::string p = "https://api.example.com/v1";
  EXPECT_TRUE(url_under_prefix("https://api.example.com/v1", p));
  EXPECT_TRUE(url_under_prefix("https://api.example.com/v1/", p));
  EXPECT_TRUE(url_under_prefix("https://api.example.com/v1/users?x=1#f", p));
  EXPECT_TRUE(url_under_prefix("HTTPS://API.EXAMPLE.COM:443/v1/x", p)) << "the same origin, spelt otherwise";
  EXPECT_TRUE(url_under_prefix("https://api.example.com/v1/a/../b", p));
  EXPECT_TRUE(url_under_prefix("https://api.example.com/v1/x", "https://api.example.com/v1/"));
  EXPECT_TRUE(url_under_prefix("https://api.example.com/anything", "https://api.example.com"));
  EXPECT_TRUE(url_under_prefix("http://127.0.0.1:8080/api/x", "http://127.0.0.1:8080/api"));
}

TEST(UrlUnderPrefix, RefusesLookalikes) {
  const std::string p = "https://api.example.com/v1";
  for (const char* url : {
           "https://api.example.com.evil.net/v1",
           "https://api.example.com@evil.net/v1",
           "https://api.example.com:443@evil.net/v1",
           "https://evil.net/api.example.com/v1",
           "https://evil.net/?https://api.example.com/v1",
           "https://api.example.com/v10",
           "https://api.example.com/v1x/y",
           "https://api.example.com/v1/../admin",
           "https://api.example.com/v1/./../admin",
           "https://api.example.com/v1/%2e%2e/admin",
           "https://api.example.com/v1/%2E%2E/admin",
           "https://api.example.com/v1%2f..%2fadmin",
           "https://api.example.com/v1/..%5cadmin",
           "https://api.example.com/v1\\..\\admin",
           "https://api.example.com/V1",
           "https://api.example.com/",
           "https://api.example.com",
           "http://api.example.com/v1",
           "https://api.example.com:8443/v1",
           "https://sub.api.example.com/v1",
           "https://api.example.co/v1",
           "//api.example.com/v1",
           "/v1",
           "api.example.com/v1",
           "ftp://api.example.com/v1",
           "",
       }) {
    EXPECT_FALSE(url_under_prefix(url, p)) << url;
  }
  EXPECT_FALSE(url_under_prefix("https://api.example.com/v1", "not a url"));
  EXPECT_FALSE(url_under_any("https://api.example.com/v1", {}));
  EXPECT_TRUE(url_under_any("https://b.example/x", {p, "https://b.example/"}));
}
