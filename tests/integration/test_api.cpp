// oauth-api, the relay, through nginx + Redis + the dev provider's GitHub REST API
// (docs/routes.md, "The provider's API as the signed-in user"): what reaches the
// provider (the session's current token, GitHub's headers, nothing of the browser's
// but the listed headers), what reaches the browser (allowed headers only, Link
// rewritten to the relay), each refusal of the contract answered without a request at
// the provider (its "api" counter), the refresh rules (before an expiring token, once
// for 20 concurrent calls, after a 401), the upstream failures, and the token found in
// no answer, log line or Redis value.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <map>
#include <set>
#include <thread>

#include "browser.hpp"
#include "json.hpp"
#include "stack_suite.hpp"

using testutil::Browser;
using testutil::Page;
using testutil::Stack;
using testutil::StackOptions;

namespace {

// The emulator's GitHub REST API is under /github/api (tests/dev_provider/README.md).
const char* const kApiSection = "api_url = @PROVIDER@/github/api\n"
                                "api_allow = GET:/user GET:/user/repos POST:/repos/*/*/issues\n";
const long kMaxBody = 4096;

StackOptions api_options(const std::string& token_ttl) {
  StackOptions o;
  o.github_section = kApiSection;
  o.provider_args = {"--token-ttl", token_ttl};
  o.limits_section = "[limits]\nmax_query_bytes = 2048\nmax_cookie_bytes = 2048\nmax_body_bytes = " +
                     std::to_string(kMaxBody) + "\n";
  return o;
}

// What the emulator's API saw last (its /_dev/stats "last_api_request").
struct Seen {
  std::string method, path, query, body;
  std::map<std::string, std::string> headers; // lower-case names
  bool has(const std::string& name) const { return headers.count(name) != 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

Seen last_api_request(Stack& stack) {
  Seen seen;
  auto doc = oauthfcgi::json_parse(stack.provider_call("GET", "/_dev/stats"));
  if (!doc.ok()) return seen;
  const cJSON* last = cJSON_GetObjectItemCaseSensitive(doc->get(), "last_api_request");
  if (!cJSON_IsObject(last)) return seen;
  seen.method = oauthfcgi::json_string(last, "method").value_or("");
  seen.path = oauthfcgi::json_string(last, "path").value_or("");
  seen.query = oauthfcgi::json_string(last, "query").value_or("");
  seen.body = oauthfcgi::json_string(last, "body").value_or("");
  const cJSON* h = nullptr;
  cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(last, "headers")) {
    if (cJSON_IsString(h)) seen.headers[h->string] = h->valuestring;
  }
  return seen;
}

// The user's access tokens that work now at the emulator, oldest first.
std::vector<std::string> live_tokens(Stack& stack, const std::string& login = "octocat") {
  std::vector<std::string> out;
  auto doc = oauthfcgi::json_parse(stack.provider_call("GET", "/_dev/tokens?login=" + login));
  if (!doc.ok()) return out;
  const cJSON* t = nullptr;
  cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc->get(), "tokens")) {
    out.push_back(oauthfcgi::json_string(t, "access_token").value_or(""));
  }
  return out;
}

std::string newest_token(Stack& stack) {
  auto tokens = live_tokens(stack);
  return tokens.empty() ? "" : tokens.back();
}

// A request written byte for byte to nginx, so that nginx does not normalise the path
// (., .., //, %XX) before the relay sees it, as a browser or curl would.
struct Raw {
  int status = 0;
  std::string text;
};

Raw raw_request(int port, const std::string& target, const std::string& cookie) {
  Raw out;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return out;
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                      "\r\nX-CSRF: 1\r\nCookie: oauth_session=" + cookie + "\r\nConnection: close\r\n\r\n";
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;)
        out.text.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  if (out.text.rfind("HTTP/1.1 ", 0) == 0) out.status = std::atoi(out.text.c_str() + 9);
  return out;
}

int port_of(const std::string& url) {
  return std::atoi(url.c_str() + url.rfind(':') + 1);
}

// Every value in Redis, whatever its type, one per line, for "no token in clear".
std::string redis_values(testutil::RedisServer& redis) {
  std::string out, keys = redis.cli({"--scan"});
  size_t at = 0;
  while (at < keys.size()) {
    size_t end = keys.find('\n', at);
    if (end == std::string::npos) end = keys.size();
    std::string key = keys.substr(at, end - at);
    at = end + 1;
    if (key.empty()) continue;
    std::string type = redis.cli({"TYPE", key});
    out += key + " ";
    if (type == "string")
      out += redis.cli({"GET", key});
    else if (type == "hash")
      out += redis.cli({"HGETALL", key});
    else if (type == "set")
      out += redis.cli({"SMEMBERS", key});
    else if (type == "zset")
      out += redis.cli({"ZRANGE", key, "0", "-1", "WITHSCORES"});
    else if (type == "list")
      out += redis.cli({"LRANGE", key, "0", "-1"});
    else
      out += "(" + type + ")";
    out += "\n";
  }
  return out;
}

// The whole of what a browser saw: status, every header, the body.
std::string seen_by_browser(const Page& p) {
  std::string all = std::to_string(p.status) + "\n";
  for (const auto& [name, value] : p.headers)
    all += name + ": " + value + "\n";
  return all + p.body;
}

template <class Suite> class RelaySuite : public testutil::StackSuite<Suite> {
protected:
  using testutil::StackSuite<Suite>::stack_;
  std::string relay_url(const std::string& path) const { return this->base() + "/auth/api/github" + path; }
  // A relayed call as fetch() with the CSRF header makes it.
  Page call(Browser& b, const std::string& method, const std::string& path,
            std::vector<std::string> headers = {}, const std::string& body = {}) {
    headers.push_back("X-CSRF: 1");
    Page p = b.request(method, relay_url(path), headers, body);
    pages_.push_back(seen_by_browser(p));
    return p;
  }
  int api_calls() { return stack_->provider_count("api"); }
  int refreshes() { return stack_->provider_count("refresh"); }
  void arm(const std::string& mode, const std::string& more = "") {
    stack_->provider_call("POST", "/_dev/fault?endpoint=api&mode=" + mode + more);
  }
  // A JSON refusal {"error": code} with no request at the provider.
  void expect_refused(const Page& p, long status, const std::string& code, int api_before,
                      const std::string& what) {
    EXPECT_EQ(p.status, status) << what << ": " << p.body;
    EXPECT_NE(p.body.find("\"error\":\"" + code + "\""), std::string::npos) << what << ": " << p.body;
    EXPECT_EQ(p.header("content-type").rfind("application/json", 0), 0u) << what;
    EXPECT_EQ(api_calls(), api_before) << what << ": the provider's API was called";
  }
  // Everything any browser of this test saw.
  std::vector<std::string> pages_;
};

// Tokens with a refresh token that expire in an hour: no refresh unless the provider refuses one.
class Api : public RelaySuite<Api> {
public:
  static StackOptions stack_options() { return api_options("3600"); }
};

// Tokens living 30 s: always within the relay's 60 s margin, so every call refreshes first.
// Enough threads that 20 concurrent calls are all in the program at once, and a timeout
// longer than the slowed token endpoint.
class ApiExpiring : public RelaySuite<ApiExpiring> {
public:
  static StackOptions stack_options() {
    StackOptions o = api_options("30");
    o.threads = 24;
    o.http_section = "[http]\nconnect_timeout_ms = 1000\ntimeout_ms = 9000\n";
    return o;
  }
};

const std::set<std::string> kMayReachTheProvider = {
    // the relay's own and the provider's headers
    "host", "authorization", "user-agent", "x-github-api-version", "content-length", "connection",
    "accept-encoding",
    // the browser's, as the contract lists them
    "accept", "accept-language", "content-type", "if-none-match", "if-modified-since", "if-match"};

} // namespace

TEST_F(Api, AllowedGetIsRelayedWithTheSessionsTokenAndGithubsHeadersOnly) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  std::string token = newest_token(*stack_);
  ASSERT_EQ(token.rfind("ghu_", 0), 0u) << token;
  int before = api_calls();
  Page p =
      // "Accept:" sends none (libcurl's default is */*): the relay then asks for GitHub's own.
      call(b, "GET", "/user/repos?per_page=3",
           {"Accept:", "Accept-Language: fr", "Authorization: Bearer browser-chosen",
            "X-Forwarded-For: 203.0.113.9", "X-Forwarded-Host: evil.example", "X-Forwarded-Proto: https",
            "Origin: " + base(), "Sec-Fetch-Site: same-origin", "Referer: " + base() + "/",
            "X-Real-IP: 203.0.113.9"});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(api_calls(), before + 1);
  EXPECT_NE(p.body.find(R"("full_name": "octocat/boysenberry-repo-1")"), std::string::npos) << p.body;

  Seen seen = last_api_request(*stack_);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.path, "/github/api/user/repos");
  EXPECT_EQ(seen.query, "per_page=3");
  EXPECT_EQ(seen.header("authorization"), "Bearer " + token)
      << "the session's token, the one the provider issued";
  EXPECT_EQ(seen.header("x-github-api-version"), "2022-11-28");
  EXPECT_EQ(seen.header("accept"), "application/vnd.github+json");
  EXPECT_FALSE(seen.header("user-agent").empty());
  EXPECT_EQ(seen.header("accept-language"), "fr");
  for (const char* never : {"cookie", "x-csrf", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto",
                            "origin", "sec-fetch-site", "referer", "x-real-ip"})
    EXPECT_FALSE(seen.has(never)) << never << ": " << seen.header(never);
  for (const auto& [name, value] : seen.headers)
    EXPECT_TRUE(kMayReachTheProvider.count(name)) << "forwarded: " << name << ": " << value;

  // The answer: the allowed headers only.
  EXPECT_EQ(p.header("content-type").rfind("application/json", 0), 0u);
  EXPECT_EQ(p.header("etag").rfind("W/\"", 0), 0u) << p.header("etag");
  EXPECT_EQ(p.header("x-ratelimit-limit"), "5000");
  EXPECT_FALSE(p.header("x-ratelimit-remaining").empty());
  EXPECT_FALSE(p.header("x-ratelimit-reset").empty());
  EXPECT_FALSE(p.header("x-ratelimit-used").empty());
  EXPECT_EQ(p.header("x-ratelimit-resource"), "core");
  EXPECT_NE(p.header("cache-control").find("no-store"), std::string::npos);
  EXPECT_EQ(p.headers.count("set-cookie"), 0u) << p.header("set-cookie");
  for (const char* dropped :
       {"x-oauth-scopes", "x-accepted-oauth-scopes", "x-github-media-type", "x-github-api-version-selected"})
    EXPECT_EQ(p.headers.count(dropped), 0u) << dropped;
  EXPECT_EQ(p.header("server").find("dev-provider"), std::string::npos);
  // Link: every URL points at the relay, none at the provider.
  std::string link = p.header("link");
  EXPECT_NE(link.find("<" + base() + "/auth/api/github/user/repos?per_page=3&page=2>; rel=\"next\""),
            std::string::npos)
      << link;
  EXPECT_NE(link.find("<" + base() + "/auth/api/github/user/repos?per_page=3&page=3>; rel=\"last\""),
            std::string::npos)
      << link;
  EXPECT_EQ(link.find(stack_->provider()), std::string::npos) << link;
  EXPECT_EQ(link.find("/github/api"), std::string::npos) << link;

  // An Accept the browser chose goes as it is.
  ASSERT_EQ(call(b, "GET", "/user", {"Accept: application/vnd.github.raw+json"}).status, 200);
  EXPECT_EQ(last_api_request(*stack_).header("accept"), "application/vnd.github.raw+json");
}

TEST_F(Api, TheRewrittenLinkLeadsToTheNextPageThroughTheRelay) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  Page first = call(b, "GET", "/user/repos?per_page=5");
  ASSERT_EQ(first.status, 200) << first.body;
  std::string link = first.header("link");
  std::string prefix = "<" + base() + "/auth/api/github";
  auto at = link.find(prefix);
  ASSERT_NE(at, std::string::npos) << link;
  std::string next = link.substr(at + prefix.size(), link.find('>', at) - at - prefix.size());
  Page second = call(b, "GET", next);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(last_api_request(*stack_).query, "per_page=5&page=2");
  EXPECT_NE(second.body, first.body);
  EXPECT_NE(second.header("link").find("rel=\"prev\""), std::string::npos) << second.header("link");
  EXPECT_NE(second.header("link").find("rel=\"first\""), std::string::npos) << second.header("link");
}

TEST_F(Api, IfNoneMatchIsForwardedAnd304ComesBack) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  Page first = call(b, "GET", "/user/repos");
  ASSERT_EQ(first.status, 200) << first.body;
  std::string etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  Page again = call(b, "GET", "/user/repos", {"If-None-Match: " + etag});
  EXPECT_EQ(again.status, 304) << again.body;
  EXPECT_EQ(again.header("etag"), etag);
  EXPECT_TRUE(again.body.empty()) << again.body;
  EXPECT_EQ(last_api_request(*stack_).header("if-none-match"), etag);
  EXPECT_EQ(again.headers.count("set-cookie"), 0u);
}

TEST_F(Api, AllowedPostIsRelayedWithItsBodyAndTheProvidersAnswer) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  std::string token = newest_token(*stack_);
  int before = api_calls();
  std::string issue = R"({"title":"Seen through the relay","body":"made by test_api"})";
  Page created = call(b, "POST", "/repos/octocat/Hello-World/issues",
                      {"Content-Type: application/json", "Origin: " + base()}, issue);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_NE(created.body.find(R"("title": "Seen through the relay")"), std::string::npos) << created.body;
  EXPECT_NE(created.body.find(R"("login": "octocat")"), std::string::npos) << created.body;
  EXPECT_EQ(created.headers.count("set-cookie"), 0u);
  EXPECT_EQ(created.headers.count("location"), 0u) << "Location is not an allowed header";
  Seen seen = last_api_request(*stack_);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.path, "/github/api/repos/octocat/Hello-World/issues");
  EXPECT_EQ(seen.body, issue);
  EXPECT_EQ(seen.header("content-type"), "application/json");
  EXPECT_EQ(seen.header("authorization"), "Bearer " + token);
  EXPECT_EQ(seen.header("x-github-api-version"), "2022-11-28");
  EXPECT_FALSE(seen.has("cookie"));
  EXPECT_FALSE(seen.has("x-csrf"));
  EXPECT_FALSE(seen.has("origin"));
  // The provider's refusal comes back as it is: its status and body.
  Page untitled = call(b, "POST", "/repos/octocat/Hello-World/issues", {"Content-Type: application/json"},
                       R"({"body":"no title"})");
  EXPECT_EQ(untitled.status, 422) << untitled.body;
  EXPECT_NE(untitled.body.find("wasn't supplied"), std::string::npos) << untitled.body;
  EXPECT_EQ(api_calls(), before + 2);
}

TEST_F(Api, EachRefusalOfTheContractIsAnsweredWithoutCallingTheProvider) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  int before = api_calls();
  // 1. unknown provider
  expect_refused(b.request("GET", base() + "/auth/api/nosuch/user/repos", {"X-CSRF: 1"}), 404,
                 "unknown_provider", before, "unknown provider");
  // 2. CSRF
  expect_refused(b.get(relay_url("/user/repos")), 403, "csrf", before, "no X-CSRF");
  expect_refused(b.get(relay_url("/user/repos"), {"X-CSRF: 0"}), 403, "csrf", before, "X-CSRF: 0");
  expect_refused(call(b, "GET", "/user/repos", {"Sec-Fetch-Site: cross-site"}), 403, "csrf", before,
                 "Sec-Fetch-Site: cross-site");
  expect_refused(call(b, "GET", "/user/repos", {"Origin: http://evil.example"}), 403, "csrf", before,
                 "foreign Origin");
  expect_refused(call(b, "GET", "/user/repos", {"Origin: null"}), 403, "csrf", before, "Origin: null");
  expect_refused(call(b, "POST", "/repos/octocat/Hello-World/issues",
                      {"Content-Type: application/json", "Origin: http://127.0.0.1:1"}, R"({"title":"x"})"),
                 403, "csrf", before, "Origin of another port");
  // 4. not allowed: method, unlisted path, a segment too many
  expect_refused(call(b, "DELETE", "/user/repos"), 403, "not_allowed", before, "DELETE /user/repos");
  expect_refused(call(b, "POST", "/user/repos", {"Content-Type: application/json"}, "{}"), 403, "not_allowed",
                 before, "POST /user/repos");
  expect_refused(call(b, "GET", "/repos/octocat/Hello-World/issues"), 403, "not_allowed", before,
                 "GET on a POST rule");
  expect_refused(call(b, "GET", "/user/emails"), 403, "not_allowed", before, "unlisted path");
  expect_refused(call(b, "GET", "/user/repos/more"), 403, "not_allowed", before, "a segment too many");
  expect_refused(call(b, "POST", "/repos/octocat/issues", {"Content-Type: application/json"}, "{}"), 403,
                 "not_allowed", before, "a segment too few");
  // 5. no session, a session of another provider
  Browser stranger;
  expect_refused(call(stranger, "GET", "/user/repos"), 401, "unauthenticated", before, "no session");
  Browser forged;
  forged.set_cookie("127.0.0.1", "oauth_session", std::string(43, 'A'));
  expect_refused(call(forged, "GET", "/user/repos"), 401, "unauthenticated", before, "made-up session");
  Browser dev_user;
  ASSERT_EQ(stack_->login(dev_user, "dev").status, 302);
  expect_refused(call(dev_user, "GET", "/user/repos"), 401, "unauthenticated", before,
                 "a session of [provider dev]");
  // 6. a body over [limits] max_body_bytes
  std::string big = R"({"title":")" + std::string(kMaxBody, 'x') + R"("})";
  expect_refused(
      call(b, "POST", "/repos/octocat/Hello-World/issues", {"Content-Type: application/json"}, big), 413,
      "body_too_large", before, "body over max_body_bytes");
  // Still signed in, and the relay works: none of the above ended the session.
  EXPECT_EQ(call(b, "GET", "/user/repos").status, 200);
}

TEST_F(Api, EachBadPathFormIs400WithoutCallingTheProviderWhateverNginxWouldMakeOfIt) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  std::string cookie = b.cookie("oauth_session");
  ASSERT_FALSE(cookie.empty());
  int port = port_of(base());
  // Each would reach an allowed rule (GET:/user/repos, GET:/user) once normalised or decoded.
  const char* const forms[] = {"/user/./repos",
                               "/user/../user/repos",
                               "/./user/repos",
                               "/user/repos/.",
                               "/user/repos/..",
                               "//user/repos",
                               "/user//repos",
                               "/user/repos/",
                               "/user\\repos",
                               "/user%2frepos",
                               "/user%2Frepos",
                               "/user%5crepos",
                               "/user%5Crepos",
                               "/user/%2e/repos",
                               "/user/%2E/repos",
                               "/user/%2e%2e/user/repos",
                               "/user/%2E%2E/user/repos",
                               "/user/.%2e/user/repos",
                               "/user%20",
                               "/user%09/repos",
                               "/user%01",
                               "/user%7f",
                               "/user%0d%0a/repos",
                               "/user%0A"};
  int before = api_calls();
  for (const char* form : forms) {
    Raw answer = raw_request(port, std::string("/auth/api/github") + form, cookie);
    EXPECT_EQ(answer.status, 400) << form << "\n" << answer.text;
    EXPECT_NE(answer.text.find("\"error\":\"bad_path\""), std::string::npos) << form << "\n" << answer.text;
    EXPECT_EQ(api_calls(), before) << form << " reached the provider";
  }
  // An encoded NUL: nginx refuses the request line itself (its own 400 page), so the
  // relay's rule (unit-tested in test_api_relay) is not reached; still 400 and no call.
  for (const char* form : {"/user%00/repos", "/user/repos%00", "/user/repos%00x"}) {
    Raw answer = raw_request(port, std::string("/auth/api/github") + form, cookie);
    EXPECT_EQ(answer.status, 400) << form << "\n" << answer.text;
    EXPECT_EQ(api_calls(), before) << form << " reached the provider";
  }
  // The same client, a good path: the refusals were the path's doing.
  Raw good = raw_request(port, "/auth/api/github/user/repos", cookie);
  EXPECT_EQ(good.status, 200) << good.text;
  EXPECT_EQ(api_calls(), before + 1);
}

TEST_F(Api, ChecksComeInTheContractsOrder) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  int before = api_calls();
  Browser stranger;
  std::string big(kMaxBody + 1, 'x');
  // unknown provider before CSRF
  expect_refused(stranger.get(base() + "/auth/api/nosuch/user"), 404, "unknown_provider", before,
                 "1 before 2");
  // CSRF before the path
  expect_refused(b.get(relay_url("/user/%2e%2e/user")), 403, "csrf", before, "2 before 3");
  // the path before api_allow
  expect_refused(call(b, "DELETE", "/user//repos"), 400, "bad_path", before, "3 before 4");
  // api_allow before the session
  expect_refused(call(stranger, "DELETE", "/user/repos"), 403, "not_allowed", before, "4 before 5");
  // the session before the body
  expect_refused(
      call(stranger, "POST", "/repos/octocat/Hello-World/issues", {"Content-Type: application/json"}, big),
      401, "unauthenticated", before, "5 before 6");
  // and every other check before the body too
  std::vector<std::string> json = {"Content-Type: application/json", "X-CSRF: 1"};
  expect_refused(b.request("POST", base() + "/auth/api/nosuch/x", json, big), 404, "unknown_provider", before,
                 "1 before 6");
  expect_refused(b.request("POST", relay_url("/repos/octocat/Hello-World/issues"),
                           {"Content-Type: application/json"}, big),
                 403, "csrf", before, "2 before 6");
  expect_refused(call(b, "POST", "/repos//Hello-World/issues", {"Content-Type: application/json"}, big), 400,
                 "bad_path", before, "3 before 6");
  expect_refused(call(b, "POST", "/user/repos", {"Content-Type: application/json"}, big), 403, "not_allowed",
                 before, "4 before 6");
}

TEST_F(Api, AnUpstream401GetsOneRefreshAndOneRetry) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  std::string first = newest_token(*stack_);
  int calls = api_calls(), refreshed = refreshes();
  arm("invalid_token", "&count=1"); // the provider revoked the token early
  Page p = call(b, "GET", "/user/repos");
  EXPECT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(refreshes(), refreshed + 1);
  EXPECT_EQ(api_calls(), calls + 2) << "the refused call and one retry";
  std::string second = newest_token(*stack_);
  EXPECT_NE(second, first);
  EXPECT_EQ(last_api_request(*stack_).header("authorization"), "Bearer " + second);
  // The refreshed token is the session's from now on: no more refreshes.
  EXPECT_EQ(call(b, "GET", "/user").status, 200);
  EXPECT_EQ(refreshes(), refreshed + 1);
  EXPECT_EQ(last_api_request(*stack_).header("authorization"), "Bearer " + second);
}

TEST_F(Api, TokensExpiredAtTheProviderAreRefreshedOnTheFirst401) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  int refreshed = refreshes();
  stack_->provider_call("POST", "/_dev/expire?kind=access"); // the relay still believes them good
  Page p = call(b, "GET", "/user/repos");
  EXPECT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(refreshes(), refreshed + 1);
  EXPECT_EQ(last_api_request(*stack_).header("authorization"), "Bearer " + newest_token(*stack_));
}

TEST_F(Api, TwoUpstream401sEndTheSession) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  int calls = api_calls(), refreshed = refreshes();
  arm("invalid_token", "&count=2");
  Page p = call(b, "GET", "/user/repos");
  EXPECT_EQ(p.status, 401) << p.body;
  EXPECT_NE(p.body.find("\"error\":\"unauthenticated\""), std::string::npos) << p.body;
  EXPECT_EQ(refreshes(), refreshed + 1);
  EXPECT_EQ(api_calls(), calls + 2);
  EXPECT_EQ(b.get(base() + "/auth/profile").status, 401) << "the session has ended";
  int after = api_calls();
  expect_refused(call(b, "GET", "/user/repos"), 401, "unauthenticated", after, "after the end");
}

TEST_F(Api, AnOversizedAnswerIs502) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  arm("big");
  Page p = call(b, "GET", "/user/repos");
  EXPECT_EQ(p.status, 502);
  EXPECT_NE(p.body.find("\"error\":\"upstream_too_large\""), std::string::npos) << p.body.substr(0, 200);
  EXPECT_LT(p.body.size(), 4096u);
  EXPECT_EQ(call(b, "GET", "/user/repos").status, 200) << "the session is kept";
}

TEST_F(Api, AnAnswerSlowerThanTheHttpTimeoutIs504) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  arm("slow", "&ms=4000"); // [http] timeout_ms is 1500
  auto start = std::chrono::steady_clock::now();
  Page p = call(b, "GET", "/user/repos");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(p.status, 504) << p.body;
  EXPECT_NE(p.body.find("\"error\":\"upstream_timeout\""), std::string::npos) << p.body;
  EXPECT_LT(took, std::chrono::milliseconds(3500));
  EXPECT_EQ(call(b, "GET", "/user/repos").status, 200) << "the session is kept";
}

TEST_F(Api, TheTokenIsInNoAnswerLogLineOrRedisValue) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  std::vector<std::string> tokens = {newest_token(*stack_)};
  EXPECT_EQ(call(b, "GET", "/user/repos?per_page=2").status, 200);
  EXPECT_EQ(call(b, "POST", "/repos/octocat/Spoon-Knife/issues", {"Content-Type: application/json"},
                 R"({"title":"leak check"})")
                .status,
            201);
  arm("invalid_token", "&count=1"); // a refresh too: the new pair must not leak either
  EXPECT_EQ(call(b, "GET", "/user").status, 200);
  tokens.push_back(newest_token(*stack_));
  ASSERT_EQ(last_api_request(*stack_).header("authorization"), "Bearer " + tokens.back())
      << "the check below looks for what was really sent";
  std::string logs = stack_->program_logs();
  std::string redis = redis_values(stack_->redis());
  ASSERT_NE(redis.find("oauth:session"), std::string::npos) << "the scan saw the sessions";
  // ghu_/ghr_: every access and refresh token of this emulator (--token-ttl > 0).
  for (const std::string& secret : {tokens[0], tokens[1], std::string("ghu_"), std::string("ghr_")}) {
    ASSERT_FALSE(secret.empty());
    for (const std::string& page : pages_)
      EXPECT_EQ(page.find(secret), std::string::npos) << secret << " in an answer:\n" << page.substr(0, 500);
    EXPECT_EQ(logs.find(secret), std::string::npos) << secret << " in the log";
    EXPECT_EQ(redis.find(secret), std::string::npos) << secret << " in Redis in clear";
  }
  // The request log line: the path without its query.
  EXPECT_EQ(logs.find("per_page=2"), std::string::npos);
}

TEST_F(ApiExpiring, AnExpiringTokenIsRefreshedOnceBeforeTheCall) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  std::string issued = newest_token(*stack_);
  int calls = api_calls(), refreshed = refreshes();
  Page p = call(b, "GET", "/user/repos");
  EXPECT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(refreshes(), refreshed + 1);
  EXPECT_EQ(api_calls(), calls + 1) << "refreshed before the call, not after a 401";
  std::string now = newest_token(*stack_);
  EXPECT_NE(now, issued);
  EXPECT_EQ(last_api_request(*stack_).header("authorization"), "Bearer " + now);
  auto alive = live_tokens(*stack_);
  EXPECT_EQ(std::find(alive.begin(), alive.end(), issued), alive.end()) << "GitHub revokes a refreshed token";
}

TEST_F(ApiExpiring, TwentyConcurrentCallsOnOneExpiringSessionMakeOneRefresh) {
  Browser b;
  ASSERT_EQ(stack_->login(b).status, 302);
  std::string cookie = b.cookie("oauth_session");
  int calls = api_calls(), refreshed = refreshes();
  // The refresh takes long enough for all 20 to read the session before it is replaced.
  stack_->provider_call("POST", "/_dev/fault?endpoint=token&mode=slow&ms=1500");
  std::vector<Page> pages(20);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < pages.size(); ++i)
    threads.emplace_back([&, i] {
      Browser tab;
      tab.set_cookie("127.0.0.1", "oauth_session", cookie);
      pages[i] = tab.request("GET", relay_url("/user/repos"), {"X-CSRF: 1"});
    });
  for (auto& t : threads)
    t.join();
  for (const Page& p : pages)
    EXPECT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(refreshes(), refreshed + 1);
  EXPECT_EQ(api_calls(), calls + 20) << "no call was refused and retried";
  EXPECT_EQ(last_api_request(*stack_).header("authorization"), "Bearer " + newest_token(*stack_));
}

TEST(ApiRedis, RedisDownIs503WithoutCallingTheProvider) {
  Stack stack(api_options("3600"));
  Browser b;
  ASSERT_EQ(stack.login(b).status, 302);
  int before = stack.provider_count("api");
  stack.redis().stop();
  Page p = b.request("GET", stack.base() + "/auth/api/github/user/repos", {"X-CSRF: 1"});
  EXPECT_EQ(p.status, 503) << p.body;
  EXPECT_EQ(stack.provider_count("api"), before);
  // Redis back (empty: the test's Redis keeps nothing on disk): the relay reconnects and
  // finds no session, 401 and not 503.
  stack.redis().start();
  Page back = b.request("GET", stack.base() + "/auth/api/github/user/repos", {"X-CSRF: 1"});
  EXPECT_EQ(back.status, 401) << back.body;
  EXPECT_EQ(stack.provider_count("api"), before);
}
