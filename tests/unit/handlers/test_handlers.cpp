// The six handlers on their routes (the pipeline in process) with a MemoryStore and a
// scripted provider: the whole login, and every refusal the contract names, without sockets.
#include "handlers.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "handler_harness.hpp"
#include "provider_facebook.hpp"
#include "routes.hpp"
#include "sessions.hpp"

using namespace oauthfcgi;

namespace {

class Handlers : public testutil::HandlerTest {
protected:
  void SetUp() override {
    dir_.write("gh.secret", "gh-secret\n");
    std::string text =
        "[server]\npublic_url = https://www.example.com\nsecret_file = secret\n"
        "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret_file = gh.secret\n"
        "api_allow = GET:/repos/** POST:/repos/*/*/issues\n"
        "[provider corp]\ntype = oauth2\nclient_id = corp-id\nclient_secret = corp-secret\n"
        "authorize_url = http://127.0.0.1:9/authorize\ntoken_url = http://127.0.0.1:9/token\n"
        "userinfo_url = http://127.0.0.1:9/userinfo\n";
    load_config(text);
    http_.on_json("https://github.com/login/oauth/access_token", 200,
                  R"({"access_token":"gho_TOKEN","token_type":"bearer","scope":"read:user"})");
    http_.on_json(
        "https://api.github.com/user", 200,
        R"({"login":"octocat","id":583231,"name":"The Octocat","email":"octo@example.com","avatar_url":null})");
  }

  // Runs the request through the pipeline, on the route of the table whose handler this is.
  using HandlerFn = Response (*)(const Request&, Context&);
  Response call(HandlerFn handler, Request::Env env) {
    Program program{"test", ""};
    for (const Route& r : route_table()) {
      const HandlerFn* fn = r.handler.target<HandlerFn>();
      if (fn && *fn == handler) program.routes = {r};
    }
    EXPECT_EQ(program.routes.size(), 1u);
    Context ctx = context();
    return handle_request(program, Request(std::move(env)), ctx);
  }

  static std::map<std::string, std::string> cookies_of(const Response& r) {
    std::map<std::string, std::string> out;
    for (auto& [k, v] : r.headers) {
      if (k != "Set-Cookie") continue;
      auto eq = v.find('='), semi = v.find(';');
      out[v.substr(0, eq)] = v.substr(eq + 1, semi - eq - 1);
    }
    return out;
  }

  // connect -> (provider) -> callback; returns the callback's response.
  struct Started {
    std::string state, binding, location;
  };
  Started connect(const std::string& provider = "github", const std::string& query = "",
                  const std::string& cookie = "") {
    Request::Env env = {
        {"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/connect/" + provider}, {"QUERY_STRING", query}};
    if (!cookie.empty()) env["HTTP_COOKIE"] = cookie;
    Response r = call(handle_connect, env);
    EXPECT_EQ(r.status, 302);
    Started s;
    s.location = r.header("Location") ? *r.header("Location") : "";
    auto parts = parse_url(s.location);
    if (parts.ok()) s.state = find_param(parse_query(parts->query), "state").value;
    s.binding = cookies_of(r)["__Host-oauth_session_bind"];
    return s;
  }
  Response callback(const Started& s, const std::string& provider = "github", std::string query = "") {
    if (query.empty()) query = "code=CODE&state=" + s.state;
    return call(handle_callback, {{"REQUEST_METHOD", "GET"},
                                  {"SCRIPT_NAME", "/auth/callback/" + provider},
                                  {"QUERY_STRING", query},
                                  {"HTTP_COOKIE", "__Host-oauth_session_bind=" + s.binding}});
  }
  std::string login() {
    Response r = callback(connect());
    EXPECT_EQ(r.status, 302);
    return cookies_of(r)["__Host-oauth_session"];
  }
  int token_requests() {
    int n = 0;
    for (auto& r : http_.requests)
      n += r.url.find("access_token") != std::string::npos;
    return n;
  }
};

} // namespace

TEST_F(Handlers, ConnectRedirectsToTheProviderWithStatePkceAndBindingCookie) {
  Started s = connect("github", "return_to=%2Fadmin");
  EXPECT_EQ(s.location.rfind("https://github.com/login/oauth/authorize?", 0), 0u) << s.location;
  EXPECT_EQ(s.state.size(), 43u);
  EXPECT_EQ(s.binding.size(), 43u);
  Params q = parse_query(parse_url(s.location)->query);
  EXPECT_EQ(find_param(q, "redirect_uri").value, "https://www.example.com/auth/callback/github");
  EXPECT_EQ(find_param(q, "code_challenge_method").value, "S256");
}

TEST_F(Handlers, WholeLoginSetsANewSessionAndReturnsToTheAskedPage) {
  Started s = connect("github", "return_to=%2Fadmin%3Fx%3D1");
  Response r = callback(s);
  ASSERT_EQ(r.status, 302) << r.body;
  EXPECT_EQ(*r.header("Location"), "https://www.example.com/admin?x=1");
  std::string session = cookies_of(r)["__Host-oauth_session"];
  EXPECT_EQ(session.size(), 43u);
  Response p = call(handle_profile,
                    {{"SCRIPT_NAME", "/auth/profile"}, {"HTTP_COOKIE", "__Host-oauth_session=" + session}});
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(
      p.body,
      R"({"provider":"github","id":"583231","login":"octocat","name":"The Octocat","email":"octo@example.com","avatar_url":null,"token":{"expires_at":null,"valid":true,"scopes":["read:user"]}})");
  EXPECT_EQ(p.body.find("gho_TOKEN"), std::string::npos);
}

TEST_F(Handlers, EveryLoginGetsAFreshSessionId) {
  EXPECT_NE(login(), login());
}

TEST_F(Handlers, BadReturnToFallsBackToAfterLogin) {
  Response r = callback(connect("github", "return_to=%2F%2Fevil.com"));
  EXPECT_EQ(*r.header("Location"), "https://www.example.com/");
}

TEST_F(Handlers, StateIsSingleUse) {
  Started s = connect();
  EXPECT_EQ(callback(s).status, 302);
  EXPECT_EQ(callback(s).status, 400);
  EXPECT_EQ(token_requests(), 1);
}

TEST_F(Handlers, MissingOrDuplicatedParametersAre400WithoutTokenRequest) {
  Started s = connect();
  EXPECT_EQ(callback(s, "github", "code=C").status, 400);
  EXPECT_EQ(callback(s, "github", "state=" + s.state).status, 400);
  EXPECT_EQ(callback(s, "github", "code=C&code=D&state=" + s.state).status, 400);
  EXPECT_EQ(callback(s, "github", "code=C&state=" + s.state + "&state=" + s.state).status, 400);
  EXPECT_EQ(callback(s, "github", "code=C&state=unknown").status, 400);
  EXPECT_EQ(token_requests(), 0);
}

TEST_F(Handlers, StateFromAnotherBrowserOrProviderIsRefused) {
  Started s = connect();
  Started other = s;
  other.binding = std::string(43, 'A');
  EXPECT_EQ(callback(other).status, 400);
  Started s2 = connect();
  EXPECT_EQ(callback(s2, "corp").status, 400);
  EXPECT_EQ(token_requests(), 0);
}

TEST_F(Handlers, ParallelLoginsInTwoTabsBothComplete) {
  Started a = connect();
  Started b = connect("github", "", "__Host-oauth_session_bind=" + a.binding);
  EXPECT_EQ(a.binding, b.binding);
  EXPECT_EQ(callback(b).status, 302);
  EXPECT_EQ(callback(a).status, 302);
}

TEST_F(Handlers, UserSayingNoGetsA403AndTheStateIsSpent) {
  Started s = connect();
  Response r = callback(s, "github", "error=access_denied&state=" + s.state);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(callback(s).status, 400);
}

TEST_F(Handlers, ProviderErrorWithAnotherBrowsersStateLeavesItAndShowsNoProviderText) {
  Started victim = connect();
  Started attacker = connect();
  Response r = callback(attacker, "github",
                        "error=access_denied&error_description=Call+555-0100&state=" + victim.state);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.find("555-0100"), std::string::npos) << r.body;
  EXPECT_EQ(callback(victim).status, 302) << "the victim's state was left to the victim";
}

TEST_F(Handlers, ABrowserWithTenPendingSignInsGets429UntilOneCompletes) {
  Started first = connect();
  std::string cookie = "__Host-oauth_session_bind=" + first.binding;
  for (int i = 1; i < 10; ++i)
    connect("github", "", cookie);
  Response refused = call(handle_connect, {{"SCRIPT_NAME", "/auth/connect/github"}, {"HTTP_COOKIE", cookie}});
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("Location"), nullptr);
  EXPECT_EQ(callback(first).status, 302);
  connect("github", "", cookie); // one finished: room for one more
  store_.advance(std::chrono::seconds(601));
  for (int i = 0; i < 10; ++i) // all expired: the count with them
    connect("github", "", cookie);
}

// Retrying while refused must not keep the browser locked out: the count still ends
// kStateTtl after the last sign-in it counted.
TEST_F(Handlers, RefusedConnectsDoNotProlongThePendingCount) {
  Started first = connect();
  std::string cookie = "__Host-oauth_session_bind=" + first.binding;
  for (int i = 1; i < 10; ++i)
    connect("github", "", cookie);
  auto again = [&] {
    return call(handle_connect, {{"SCRIPT_NAME", "/auth/connect/github"}, {"HTTP_COOKIE", cookie}}).status;
  };
  store_.advance(std::chrono::seconds(300));
  EXPECT_EQ(again(), 429);
  store_.advance(std::chrono::seconds(299));
  EXPECT_EQ(again(), 429);
  store_.advance(std::chrono::seconds(2));
  EXPECT_EQ(again(), 302) << "600 s after the last counted sign-in, whatever was refused since";
}

TEST_F(Handlers, UnknownProviderIs404) {
  EXPECT_EQ(call(handle_connect, {{"SCRIPT_NAME", "/auth/connect/nope"}}).status, 404);
  EXPECT_EQ(
      call(handle_callback, {{"SCRIPT_NAME", "/auth/callback/nope"}, {"QUERY_STRING", "code=a&state=b"}})
          .status,
      404);
}

TEST_F(Handlers, ChooserListsEveryProvider) {
  Response r = call(handle_connect, {{"SCRIPT_NAME", "/auth/connect"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("/auth/connect/github"), std::string::npos);
  EXPECT_NE(r.body.find("/auth/connect/corp"), std::string::npos);
  // Inside the document, not tacked on after it.
  EXPECT_LT(r.body.find("/auth/connect/corp"), r.body.find("</body>"));
  EXPECT_NE(r.body.find("Sign in with GitHub"), std::string::npos);
}

TEST_F(Handlers, RedisDownMeans503AndNoRedirectOrExchange) {
  store_.set_unavailable(true);
  Response c = call(handle_connect, {{"SCRIPT_NAME", "/auth/connect/github"}});
  EXPECT_EQ(c.status, 503);
  EXPECT_EQ(c.header("Location"), nullptr);
  Started fake{std::string(43, 's'), std::string(43, 'b'), ""};
  EXPECT_EQ(callback(fake).status, 503);
  EXPECT_EQ(token_requests(), 0);
}

TEST_F(Handlers, ProviderErrorsAre502AndTimeoutsAre504) {
  http_ = testutil::FakeHttp();
  http_.on_json("https://github.com/login/oauth/access_token", 200, R"({"error":"bad_verification_code"})");
  EXPECT_EQ(callback(connect()).status, 502);
  http_ = testutil::FakeHttp();
  http_.on("https://github.com/", [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::provider_timeout, "github.com did not answer within 10000 ms");
  });
  EXPECT_EQ(callback(connect()).status, 504);
}

TEST_F(Handlers, ProfileAndCheckWithoutSessionAre401) {
  Response p = call(handle_profile, {{"SCRIPT_NAME", "/auth/profile"}});
  EXPECT_EQ(p.status, 401);
  EXPECT_EQ(p.body, R"({"error":"unauthenticated"})");
  Response c = call(handle_check, {{"SCRIPT_NAME", "/auth/check"}, {"REQUEST_URI", "/private/page?a=1"}});
  EXPECT_EQ(c.status, 401);
  EXPECT_EQ(*c.header("X-Auth-Redirect"), "/auth/connect?return_to=%2Fprivate%2Fpage%3Fa%3D1");
}

TEST_F(Handlers, DefaultProviderSkipsTheChooserForA401) {
  load_config(
      "[server]\npublic_url = https://www.example.com\nsecret_file = secret\ndefault_provider = corp\n"
      "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = s\n"
      "[provider corp]\ntype = oauth2\nclient_id = corp-id\nclient_secret = corp-secret\n"
      "authorize_url = http://127.0.0.1:9/authorize\ntoken_url = http://127.0.0.1:9/token\n"
      "userinfo_url = http://127.0.0.1:9/userinfo\n");
  Response c = call(handle_check, {{"SCRIPT_NAME", "/auth/check"}, {"REQUEST_URI", "/private/"}});
  EXPECT_EQ(c.status, 401);
  EXPECT_EQ(*c.header("X-Auth-Redirect"), "/auth/connect/corp?return_to=%2Fprivate%2F");
}

TEST_F(Handlers, CheckHandsOutIdentityHeaders) {
  std::string session = login();
  Response c = call(handle_check, {{"HTTP_COOKIE", "__Host-oauth_session=" + session}});
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(*c.header("X-Auth-User"), "octocat");
  EXPECT_EQ(*c.header("X-Auth-Email"), "octo@example.com");
  EXPECT_EQ(*c.header("X-Auth-Provider"), "github");
  EXPECT_EQ(*c.header("X-Auth-Login"), "octocat");
  EXPECT_EQ(*c.header("X-Auth-Id"), "583231");
  EXPECT_EQ(*c.header("X-Auth-Name"), "The Octocat");
  EXPECT_EQ(*c.header("Variable-AUTH_ID"), "583231");
  EXPECT_EQ(*c.header("Variable-AUTH_NAME"), "The Octocat");
  store_.set_unavailable(true);
  EXPECT_EQ(call(handle_check, {{"HTTP_COOKIE", "__Host-oauth_session=" + session}}).status, 503);
}

TEST_F(Handlers, LogoutEndsTheSessionAndRefusesCrossSiteRequests) {
  std::string session = login();
  std::string cookie = "__Host-oauth_session=" + session;
  EXPECT_EQ(call(handle_logout,
                 {{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/logout"}, {"HTTP_COOKIE", cookie}})
                .status,
            405);
  EXPECT_EQ(
      call(handle_logout,
           {{"REQUEST_METHOD", "POST"}, {"HTTP_COOKIE", cookie}, {"HTTP_ORIGIN", "https://evil.example"}})
          .status,
      403);
  EXPECT_EQ(call(handle_logout,
                 {{"REQUEST_METHOD", "POST"}, {"HTTP_COOKIE", cookie}, {"HTTP_SEC_FETCH_SITE", "cross-site"}})
                .status,
            403);
  EXPECT_EQ(call(handle_profile, {{"HTTP_COOKIE", cookie}}).status, 200);
  Response out =
      call(handle_logout,
           {{"REQUEST_METHOD", "POST"}, {"HTTP_COOKIE", cookie}, {"HTTP_ORIGIN", "https://www.example.com"}});
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(*out.header("Location"), "/");
  EXPECT_EQ(cookies_of(out)["__Host-oauth_session"], "");
  EXPECT_EQ(call(handle_profile, {{"HTTP_COOKIE", cookie}}).status, 401);
}

// ---- time and randomness come from the Context ----------------------------------

TEST_F(Handlers, StateRunsOutOnTheContextsClock) {
  Started s = connect();
  clock_.advance(kStateTtl + std::chrono::seconds(1));
  EXPECT_EQ(callback(s).status, 400);
  EXPECT_EQ(token_requests(), 0);
}

TEST_F(Handlers, SessionRunsOutOnTheContextsClock) {
  std::string cookie = "__Host-oauth_session=" + login();
  clock_.advance(std::chrono::seconds(config_->session.ttl - 1));
  EXPECT_EQ(call(handle_check, {{"HTTP_COOKIE", cookie}}).status, 200);
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(call(handle_check, {{"HTTP_COOKIE", cookie}}).status, 401);
}

TEST_F(Handlers, BindingAndStateAreTheContextsRandomDraws) {
  testutil::FakeRandom same; // draws what random_ draws, in the same order
  Started s = connect();
  EXPECT_EQ(s.binding, base64url_encode(same.bytes(32)));
  EXPECT_EQ(s.state, base64url_encode(same.bytes(32)));
}

namespace {

// GET|POST <prefix>/api/github/<path> with what a fetch() from our own page sends.
Request::Env api_env(const std::string& method, const std::string& uri, const std::string& session) {
  std::string path = uri.substr(0, uri.find('?'));
  std::string query = uri.find('?') == std::string::npos ? "" : uri.substr(uri.find('?') + 1);
  Request::Env env = {{"REQUEST_METHOD", method}, {"SCRIPT_NAME", path}, {"REQUEST_URI", uri},
                      {"QUERY_STRING", query},    {"HTTP_X_CSRF", "1"},  {"CONTENT_TYPE", ""}};
  if (!session.empty()) env["HTTP_COOKIE"] = "__Host-oauth_session=" + session;
  return env;
}

int api_calls(const testutil::FakeHttp& http) {
  int n = 0;
  for (auto& r : http.requests)
    n += r.url.rfind("https://api.github.com/repos", 0) == 0;
  return n;
}

} // namespace

TEST_F(Handlers, ApiRelaysAnAllowedCallWithTheSessionsTokenAndOnlyTheListedHeaders) {
  std::string session = login();
  http_.on_answer("https://api.github.com/repos/", 200,
                  {{"content-type", "application/json"},
                   {"set-cookie", "logged_in=yes"},
                   {"etag", "\"e1\""},
                   {"x-ratelimit-remaining", "4999"},
                   {"x-github-request-id", "AB:CD"},
                   {"link", "<https://api.github.com/repos/o/r/issues?page=2>; rel=\"next\""}},
                  R"([{"number":1}])");
  Request::Env env = api_env("GET", "/auth/api/github/repos/o/r/issues?page=1&state=open", session);
  env["HTTP_COOKIE"] = "__Host-oauth_session=" + session + "; other=1";
  env["HTTP_AUTHORIZATION"] = "Bearer not-ours";
  env["HTTP_IF_NONE_MATCH"] = "\"e0\"";
  Response r = call(handle_api, env);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"([{"number":1}])");
  ASSERT_EQ(api_calls(http_), 1);
  const HttpRequest& up = http_.requests.back();
  EXPECT_EQ(up.method, "GET");
  EXPECT_EQ(up.url, "https://api.github.com/repos/o/r/issues?page=1&state=open");
  EXPECT_EQ(testutil::header_of(up, "Authorization"), "Bearer gho_TOKEN");
  EXPECT_EQ(testutil::header_of(up, "Accept"), "application/vnd.github+json");
  EXPECT_EQ(testutil::header_of(up, "X-GitHub-Api-Version"), "2022-11-28");
  EXPECT_EQ(testutil::header_of(up, "User-Agent"), "oauth-fcgi");
  EXPECT_EQ(testutil::header_of(up, "If-None-Match"), "\"e0\"");
  EXPECT_EQ(testutil::header_of(up, "Cookie"), "<none>");
  EXPECT_EQ(testutil::header_of(up, "X-CSRF"), "<none>");
  EXPECT_EQ(testutil::header_of(up, "Content-Type"), "<none>") << "nginx's empty CONTENT_TYPE is no header";
  EXPECT_EQ(r.header("Set-Cookie"), nullptr);
  EXPECT_EQ(r.header("X-GitHub-Request-Id"), nullptr);
  EXPECT_EQ(*r.header("ETag"), "\"e1\"");
  EXPECT_EQ(*r.header("X-RateLimit-Remaining"), "4999");
  EXPECT_EQ(*r.header("Link"),
            "<https://www.example.com/auth/api/github/repos/o/r/issues?page=2>; rel=\"next\"");
  EXPECT_EQ(r.serialize().find("gho_TOKEN"), std::string::npos);

  Request::Env post = api_env("POST", "/auth/api/github/repos/o/r/issues", session);
  post["CONTENT_TYPE"] = "application/json";
  post["HTTP_ACCEPT"] = "application/json";
  std::string body = R"({"title":"Found a bug"})";
  Context ctx = context();
  Response p = handle_request(Program{"t", "", {route("api")}}, Request(post, body), ctx);
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(http_.requests.back().method, "POST");
  EXPECT_EQ(http_.requests.back().body, body);
  EXPECT_EQ(testutil::header_of(http_.requests.back(), "Content-Type"), "application/json");
  EXPECT_EQ(testutil::header_of(http_.requests.back(), "Accept"), "application/json")
      << "the browser's Accept wins";
}

TEST_F(Handlers, ApiRefusalsComeInTheContractsOrderAndCallNothingUpstream) {
  std::string session = login();
  http_.on_json("https://api.github.com/repos/", 200, "{}");
  struct Case {
    const char* what;
    Request::Env env;
    int status;
    std::string code;
  };
  auto with = [&](Request::Env env, const char* name, const char* value) {
    if (value)
      env[name] = value;
    else
      env.erase(name);
    return env;
  };
  const std::string ok_uri = "/auth/api/github/repos/o/r";
  std::vector<Case> cases = {
      {"unknown provider", api_env("GET", "/auth/api/gitlab/repos/o/r", session), 404, "unknown_provider"},
      {"unknown provider before csrf", with(api_env("GET", "/auth/api/nope/x", ""), "HTTP_X_CSRF", nullptr),
       404, "unknown_provider"},
      {"no X-CSRF", with(api_env("GET", ok_uri, session), "HTTP_X_CSRF", nullptr), 403, "csrf"},
      {"X-CSRF not 1", with(api_env("GET", ok_uri, session), "HTTP_X_CSRF", "true"), 403, "csrf"},
      {"cross-site", with(api_env("GET", ok_uri, session), "HTTP_SEC_FETCH_SITE", "cross-site"), 403, "csrf"},
      {"foreign Origin", with(api_env("GET", ok_uri, session), "HTTP_ORIGIN", "https://evil.example"), 403,
       "csrf"},
      {"csrf before path",
       with(api_env("GET", "/auth/api/github/repos/../x", session), "HTTP_X_CSRF", nullptr), 403, "csrf"},
      {"dot-dot", api_env("GET", "/auth/api/github/repos/o/../../user", session), 400, "bad_path"},
      {"encoded slash", api_env("GET", "/auth/api/github/repos/o%2Fr", session), 400, "bad_path"},
      {"path moved by normalising",
       with(api_env("GET", "/auth/api/gitlab/../github/repos/o/r", session), "SCRIPT_NAME",
            "/auth/api/github/repos/o/r"),
       400, "bad_path"},
      {"not allowed: method", api_env("DELETE", ok_uri, session), 403, "not_allowed"},
      {"not allowed: path", api_env("GET", "/auth/api/github/user/emails", session), 403, "not_allowed"},
      {"not allowed before session", api_env("GET", "/auth/api/github/user/emails", ""), 403, "not_allowed"},
      {"no session", api_env("GET", ok_uri, ""), 401, "unauthenticated"},
      {"unknown session", api_env("GET", ok_uri, std::string(43, 'x')), 401, "unauthenticated"},
      // A body over max_body_bytes is the sixth check: every other refusal comes first.
      {"unknown provider before 413",
       with(api_env("POST", "/auth/api/nope/x", session), "CONTENT_LENGTH", "70000"), 404,
       "unknown_provider"},
      {"csrf before 413",
       with(with(api_env("POST", ok_uri, session), "CONTENT_LENGTH", "70000"), "HTTP_X_CSRF", nullptr), 403,
       "csrf"},
      {"not allowed before 413", with(api_env("POST", ok_uri, session), "CONTENT_LENGTH", "70000"), 403,
       "not_allowed"},
      {"no session before 413", with(api_env("POST", ok_uri + "/issues", ""), "CONTENT_LENGTH", "70000"), 401,
       "unauthenticated"},
      {"body too large", with(api_env("POST", ok_uri + "/issues", session), "CONTENT_LENGTH", "70000"), 413,
       "body_too_large"},
  };
  for (const Case& c : cases) {
    Response r = call(handle_api, c.env);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body;
    EXPECT_NE(r.body.find("\"error\":\"" + c.code + "\""), std::string::npos) << c.what << ": " << r.body;
  }
  EXPECT_EQ(api_calls(http_), 0);
  // Our own Origin and same-origin fetches pass.
  Request::Env same = with(api_env("GET", ok_uri, session), "HTTP_ORIGIN", "https://www.example.com");
  same["HTTP_SEC_FETCH_SITE"] = "same-origin";
  EXPECT_EQ(call(handle_api, same).status, 200);
}

TEST_F(Handlers, ApiSessionOfAnotherProviderIsUnauthenticated) {
  load_config("[server]\npublic_url = https://www.example.com\nsecret_file = secret\n"
              "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = s\n"
              "[provider corp]\ntype = oauth2\nclient_id = c\nclient_secret = s\n"
              "authorize_url = http://127.0.0.1:9/a\ntoken_url = http://127.0.0.1:9/t\nuserinfo_url = "
              "http://127.0.0.1:9/u\napi_url = http://127.0.0.1:9/api\napi_allow = GET:/repos/**\n");
  std::string session = login(); // a github session
  http_.on_json("http://127.0.0.1:9/api", 200, "{}");
  Response r = call(handle_api, api_env("GET", "/auth/api/corp/repos/x", session));
  EXPECT_EQ(r.status, 401);
  for (auto& q : http_.requests)
    EXPECT_EQ(q.url.rfind("http://127.0.0.1:9/api", 0), std::string::npos);
}

TEST_F(Handlers, ApiUpstream401RefreshesOnceAndRetriesThenEndsTheSession) {
  http_ = testutil::FakeHttp();
  int refreshes = 0;
  http_.on("https://github.com/login/oauth/access_token", [&](const HttpRequest& q) -> Result<HttpResponse> {
    HttpResponse a;
    a.status = 200;
    a.headers = {{"content-type", "application/json"}};
    bool refresh = testutil::form_has(q, "grant_type=refresh_token");
    refreshes += refresh;
    a.body =
        refresh
            ? R"({"access_token":"gho_NEW","refresh_token":"ghr_2","expires_in":28800,"token_type":"bearer"})"
            : R"({"access_token":"gho_OLD","refresh_token":"ghr_1","expires_in":28800,"token_type":"bearer"})";
    return a;
  });
  http_.on_json("https://api.github.com/user", 200, R"({"login":"octocat","id":583231})");
  bool new_token_works = true;
  http_.on("https://api.github.com/repos/", [&](const HttpRequest& q) -> Result<HttpResponse> {
    HttpResponse a;
    bool ok = testutil::header_of(q, "Authorization") == "Bearer gho_NEW" && new_token_works;
    a.status = ok ? 200 : 401;
    a.body = ok ? "[]" : R"({"message":"Bad credentials"})";
    return a;
  });
  std::string session = login();
  Response r = call(handle_api, api_env("GET", "/auth/api/github/repos/o/r", session));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(refreshes, 1);
  EXPECT_EQ(api_calls(http_), 2) << "the call, one refresh, the call once more";

  new_token_works = false; // revoked at the provider: the refreshed token is refused too
  r = call(handle_api, api_env("GET", "/auth/api/github/repos/o/r", session));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"error":"unauthenticated"})");
  EXPECT_EQ(refreshes, 2);
  EXPECT_EQ(call(handle_profile,
                 {{"SCRIPT_NAME", "/auth/profile"}, {"HTTP_COOKIE", "__Host-oauth_session=" + session}})
                .status,
            401)
      << "the session has ended";
}

TEST_F(Handlers, ApiUpstreamFailuresHaveTheirCodes) {
  std::string session = login();
  struct Case {
    Error error;
    int status;
    const char* code;
  };
  for (const Case& c : {Case{make_error(ErrorKind::provider_error, "too big", std::string(kResponseTooLarge)),
                             502, "upstream_too_large"},
                        Case{make_error(ErrorKind::provider_error, "api.github.com: Couldn't connect"), 502,
                             "upstream_unreachable"},
                        Case{make_error(ErrorKind::provider_timeout, "api.github.com did not answer"), 504,
                             "upstream_timeout"}}) {
    testutil::FakeHttp fresh;
    Error e = c.error;
    fresh.on("https://api.github.com/repos/", [e](const HttpRequest&) -> Result<HttpResponse> { return e; });
    Context ctx = context(fresh);
    Response r = handle_request(Program{"t", "", {route("api")}},
                                Request(api_env("GET", "/auth/api/github/repos/o/r", session)), ctx);
    EXPECT_EQ(r.status, c.status);
    EXPECT_NE(r.body.find(std::string("\"error\":\"") + c.code + "\""), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("Couldn't"), std::string::npos) << "a 5xx names nothing of ours";
  }
  store_.set_unavailable(true);
  EXPECT_EQ(call(handle_api, api_env("GET", "/auth/api/github/repos/o/r", session)).status, 503);
}

// Every Graph call with the user's token carries appsecret_proof; the relay's too, and
// it is the proof of the token actually sent (a refreshed one gets its own).
TEST_F(Handlers, ApiSignsFacebookCallsWithAppsecretProof) {
  load_config("[server]\npublic_url = https://www.example.com\nsecret_file = secret\n"
              "[provider facebook]\ntype = facebook\nclient_id = 123\nclient_secret = app-secret\n"
              "api_allow = GET:/me/accounts\n");
  Session s;
  s.profile.provider = "facebook";
  s.profile.id = "10001";
  s.tokens.access_token = "EAAtoken";
  s.created = clock_.now();
  s.expires_at = clock_.now() + 3600;
  const std::string cookie(43, 'c');
  ASSERT_TRUE(AuthStore(store_, keys_).put_session(cookie, s, std::chrono::seconds(3600)).ok());
  http_.on_json("https://graph.facebook.com/v19.0/me/accounts", 200, R"({"data":[]})");
  Response r = call(handle_api, api_env("GET", "/auth/api/facebook/me/accounts?limit=5", cookie));
  ASSERT_EQ(r.status, 200) << r.body;
  const HttpRequest& up = http_.requests.back();
  EXPECT_EQ(up.url, "https://graph.facebook.com/v19.0/me/accounts?limit=5&appsecret_proof=" +
                        appsecret_proof("app-secret", "EAAtoken"));
  EXPECT_EQ(testutil::header_of(up, "Authorization"), "Bearer EAAtoken");
}
