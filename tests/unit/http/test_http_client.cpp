// CurlHttpClient against a real local server (tests/support/http_test_server.py):
// what we send arrives as sent, statuses are answers, and every limit of [http]
// (timeouts, body and header caps, TLS verification) turns into the right Error
// without leaking the URL's query.
#include "http_client.hpp"

#include <cjson/cJSON.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <strings.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace oauthfcgi;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

std::string server_script() {
  return testutil::source_dir() + "/tests/support/http_test_server.py";
}

// Starts the test server on a free port; waits (bounded) until it accepts connections.
std::unique_ptr<testutil::Process> start_server(int port, const std::string& log,
                                                std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {"/usr/bin/python3", server_script(), "--port", std::to_string(port)};
  for (auto& a : extra)
    argv.push_back(a);
  auto proc = std::make_unique<testutil::Process>(argv, std::map<std::string, std::string>{}, log);
  if (!testutil::wait_until([&] { return testutil::port_open(port); }, 10s)) return nullptr;
  return proc;
}

// The /echo answer, parsed.
struct Echo {
  std::string method, path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Case-insensitive, as HTTP header names are; "<none>" when absent.
  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers)
      if (strcasecmp(n.c_str(), name.c_str()) == 0) return v;
    return "<none>";
  }
};

Echo parse_echo(const std::string& json) {
  Echo e;
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> root(cJSON_Parse(json.c_str()), cJSON_Delete);
  if (!root) {
    ADD_FAILURE() << "echo is not JSON: " << json;
    return e;
  }
  auto str = [&](const char* key) {
    const cJSON* item = cJSON_GetObjectItemCaseSensitive(root.get(), key);
    return cJSON_IsString(item) ? std::string(item->valuestring) : std::string();
  };
  e.method = str("method");
  e.path = str("path");
  e.query = str("query");
  e.body = str("body");
  const cJSON* pair = nullptr;
  cJSON_ArrayForEach(pair, cJSON_GetObjectItemCaseSensitive(root.get(), "headers")) {
    e.headers.emplace_back(cJSON_GetArrayItem(pair, 0)->valuestring,
                           cJSON_GetArrayItem(pair, 1)->valuestring);
  }
  return e;
}

std::string base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

long ms_since(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

class HttpClientTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    http_global_init();
    dir_ = new testutil::TempDir();
    port_ = testutil::free_port();
    server_ = start_server(port_, dir_->file("server.log")).release();
    ASSERT_NE(server_, nullptr) << "test server did not start on port " << port_;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static std::string url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  static HttpConfig config(long timeout_ms = 5000, long max_bytes = 1048576) {
    HttpConfig c;
    c.connect_timeout_ms = 2000;
    c.timeout_ms = timeout_ms;
    c.max_response_bytes = max_bytes;
    return c;
  }

  static inline testutil::TempDir* dir_ = nullptr;
  static inline testutil::Process* server_ = nullptr;
  static inline int port_ = 0;
};

// ---- requests arrive as sent -------------------------------------------------

TEST_F(HttpClientTest, GetSendsQueryHeadersAndUserAgent) {
  CurlHttpClient client(config(), "oauth-fcgi-test/1");
  auto r = client.send(
      http_get(url("/echo?a=1&b=two%20words"), {{"Accept", "application/json"}, {"X-Custom", "v1"}}));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->status, 200);
  Echo e = parse_echo(r->body);
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.path, "/echo");
  EXPECT_EQ(e.query, "a=1&b=two%20words");
  EXPECT_EQ(e.header("Accept"), "application/json");
  EXPECT_EQ(e.header("X-Custom"), "v1");
  EXPECT_EQ(e.header("User-Agent"), "oauth-fcgi-test/1");
  EXPECT_EQ(e.body, "");
}

TEST_F(HttpClientTest, RequestUserAgentReplacesTheDefault) {
  CurlHttpClient client(config());
  auto r = client.send(http_get(url("/echo"), {{"User-Agent", "mine/2"}}));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(parse_echo(r->body).header("User-Agent"), "mine/2");
}

TEST_F(HttpClientTest, PostFormSendsEncodedBodyAndContentTypeWithoutExpect) {
  CurlHttpClient client(config());
  Params form = {
      {"grant_type", "authorization_code"}, {"code", "a b&c=d/é"}, {"redirect_uri", "https://x/cb?y=1"}};
  auto r = client.send(http_post_form(url("/echo"), form, {{"Accept", "application/json"}}));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  Echo e = parse_echo(r->body);
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.body, build_query(form));
  EXPECT_EQ(parse_query(e.body), form);
  EXPECT_EQ(e.header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(e.header("Content-Length"), std::to_string(build_query(form).size()));
  EXPECT_EQ(e.header("Accept"), "application/json");
  EXPECT_EQ(e.header("Expect"), "<none>");
}

TEST_F(HttpClientTest, PostFormKeepsACallerContentType) {
  HttpRequest req = http_post_form(url("/echo"), {{"a", "1"}}, {{"content-type", "text/plain"}});
  int types = 0;
  for (const auto& h : req.headers)
    if (strcasecmp(h.first.c_str(), "Content-Type") == 0) ++types;
  EXPECT_EQ(types, 1);
}

TEST_F(HttpClientTest, EmptyPostSendsZeroLength) {
  CurlHttpClient client(config());
  HttpRequest req;
  req.method = "POST";
  req.url = url("/echo");
  auto r = client.send(req);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  Echo e = parse_echo(r->body);
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.header("Content-Length"), "0");
}

TEST_F(HttpClientTest, OtherMethodsSendTheirBodyBinarySafe) {
  CurlHttpClient client(config());
  HttpRequest req;
  req.method = "PUT";
  req.url = url("/echo");
  req.body = std::string("ab\0cd", 5);
  req.headers = {{"Content-Type", "application/octet-stream"}};
  auto r = client.send(req);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  Echo e = parse_echo(r->body);
  EXPECT_EQ(e.method, "PUT");
  EXPECT_EQ(e.header("Content-Length"), "5");

  req.method = "DELETE";
  req.body.clear();
  r = client.send(req);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(parse_echo(r->body).method, "DELETE");
}

TEST_F(HttpClientTest, BasicAuthFormEncodesIdAndSecretFirst) {
  CurlHttpClient client(config());
  HttpRequest req = http_get(url("/echo"));
  req.basic_user = "client id:1";
  req.basic_password = "p@ss/w\xc3\xb6rd+&=";
  auto r = client.send(req);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  // RFC 6749 2.3.1: each part form-encoded, then "id:secret" base64-encoded.
  EXPECT_EQ(parse_echo(r->body).header("Authorization"),
            "Basic " + base64("client%20id%3A1:p%40ss%2Fw%C3%B6rd%2B%26%3D"));
}

TEST_F(HttpClientTest, NoAuthorizationWithoutBothCredentials) {
  CurlHttpClient client(config());
  HttpRequest req = http_get(url("/echo"));
  req.basic_user = "only-user";
  auto r = client.send(req);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(parse_echo(r->body).header("Authorization"), "<none>");
}

TEST_F(HttpClientTest, OptionsDoNotLeakIntoTheNextCall) {
  CurlHttpClient client(config());
  HttpRequest post = http_post_form(url("/echo"), {{"a", "1"}});
  post.basic_user = "u";
  post.basic_password = "p";
  ASSERT_TRUE(client.send(post).ok());
  auto r = client.send(http_get(url("/echo")));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  Echo e = parse_echo(r->body);
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.body, "");
  EXPECT_EQ(e.header("Authorization"), "<none>");
  EXPECT_EQ(e.header("Content-Type"), "<none>");
}

// ---- responses ---------------------------------------------------------------

TEST_F(HttpClientTest, HttpErrorStatusesAreResponsesNotErrors) {
  CurlHttpClient client(config());
  for (long status : {201L, 204L, 400L, 401L, 404L, 500L, 503L}) {
    auto r = client.send(http_get(url("/status/" + std::to_string(status))));
    ASSERT_TRUE(r.ok()) << status << ": " << r.error().reason;
    EXPECT_EQ(r->status, status);
  }
}

TEST_F(HttpClientTest, RedirectsAreReturnedNotFollowed) {
  CurlHttpClient client(config());
  auto r = client.send(http_get(url("/redirect?to=/echo")));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->status, 302);
  ASSERT_NE(r->header("Location"), nullptr);
  EXPECT_EQ(*r->header("location"), "/echo");
  EXPECT_EQ(r->body, "moved\n");
}

TEST_F(HttpClientTest, ResponseHeaderNamesAreLowerCased) {
  CurlHttpClient client(config());
  auto r = client.send(http_get(url("/headers?count=3&size=4")));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  for (const auto& [name, value] : r->headers) {
    std::string low = name;
    for (char& c : low)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(name, low);
  }
  ASSERT_NE(r->header("X-TEST-2"), nullptr);
  EXPECT_EQ(*r->header("x-test-2"), "vvvv");
  ASSERT_NE(r->header("Content-Type"), nullptr);
  EXPECT_EQ(*r->header("content-type"), "text/plain");
  EXPECT_EQ(r->header("x-test-3"), nullptr);
}

TEST(HttpResponseTest, HeaderLookupIsCaseInsensitiveFirstMatch) {
  HttpResponse r;
  r.headers = {{"set-cookie", "a=1"}, {"content-type", "application/json"}, {"set-cookie", "b=2"}};
  ASSERT_NE(r.header("Set-Cookie"), nullptr);
  EXPECT_EQ(*r.header("Set-Cookie"), "a=1");
  EXPECT_EQ(*r.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(r.header("content-length"), nullptr);
}

TEST_F(HttpClientTest, ConnectionIsKeptAliveBetweenCalls) {
  CurlHttpClient client(config());
  auto first = client.send(http_get(url("/conn")));
  auto second = client.send(http_post_form(url("/conn"), {{"a", "1"}}));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->body, second->body);
  // A second client has its own connection: the id does tell connections apart.
  CurlHttpClient other(config());
  auto third = other.send(http_get(url("/conn")));
  ASSERT_TRUE(third.ok());
  EXPECT_NE(first->body, third->body);
}

// ---- timeouts and unreachable servers ----------------------------------------

TEST_F(HttpClientTest, TimeoutIsProviderTimeoutNamingTheHost) {
  CurlHttpClient client(config(300));
  auto start = Clock::now();
  auto r = client.send(http_get(url("/slow?ms=5000")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_timeout);
  EXPECT_EQ(r.error().reason, "127.0.0.1 did not answer within 300 ms");
  EXPECT_LT(ms_since(start), 2000);
}

TEST_F(HttpClientTest, HangingServerIsProviderTimeout) {
  CurlHttpClient client(config(300));
  auto start = Clock::now();
  auto r = client.send(http_get(url("/hang")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_timeout);
  EXPECT_LT(ms_since(start), 2000);
}

TEST_F(HttpClientTest, SlowDripPastTheTimeoutIsProviderTimeout) {
  CurlHttpClient client(config(400));
  auto start = Clock::now();
  auto r = client.send(http_get(url("/drip?bytes=100&interval_ms=50")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_timeout);
  EXPECT_LT(ms_since(start), 2000);
}

TEST_F(HttpClientTest, HeartbeatBeatsWhileASlowAnswerIsAwaitedNotMoreOftenThanAsked) {
  CurlHttpClient client(config());
  HttpRequest request = http_get(url("/slow?ms=2200"));
  std::vector<Clock::time_point> beats;
  request.heartbeat = [&] { beats.push_back(Clock::now()); };
  request.heartbeat_every = std::chrono::milliseconds(500);
  auto start = Clock::now();
  auto r = client.send(request);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->status, 200);
  // libcurl's progress callback comes at least about once a second while it waits.
  EXPECT_GE(beats.size(), 2u);
  auto last = start;
  for (auto beat : beats) {
    EXPECT_GE(beat - last, std::chrono::milliseconds(500));
    last = beat;
  }
  // A heartbeat that throws does not stop the call; the next call has none.
  request.heartbeat = [] { throw std::runtime_error("boom"); };
  request.heartbeat_every = std::chrono::milliseconds(0);
  request.url = url("/slow?ms=300");
  EXPECT_TRUE(client.send(request).ok());
  size_t before = beats.size();
  EXPECT_TRUE(client.send(http_get(url("/slow?ms=300"))).ok());
  EXPECT_EQ(beats.size(), before);
}

TEST_F(HttpClientTest, ClosedPortIsProviderError) {
  CurlHttpClient client(config());
  int closed = testutil::free_port();
  auto r = client.send(http_get("http://127.0.0.1:" + std::to_string(closed) + "/x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(r.error().reason.rfind("127.0.0.1: ", 0), 0u) << r.error().reason;
}

TEST_F(HttpClientTest, ClientStillWorksAfterAFailure) {
  CurlHttpClient client(config(300, 1000));
  EXPECT_FALSE(client.send(http_get(url("/hang"))).ok());
  EXPECT_FALSE(client.send(http_get(url("/big?bytes=5000"))).ok());
  auto r = client.send(http_get(url("/status/200")));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->status, 200);
}

// ---- size caps ---------------------------------------------------------------

TEST_F(HttpClientTest, BodyOverTheCapWithContentLengthIsRefusedPromptly) {
  CurlHttpClient client(config(10000, 1000));
  auto start = Clock::now();
  // A declared 100 kB that would take 100 s to drip: refused on the header.
  auto r = client.send(http_get(url("/drip?bytes=100000&interval_ms=1")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(r.error().reason, "response from 127.0.0.1 larger than 1000 bytes");
  EXPECT_LT(ms_since(start), 2000);

  r = client.send(http_get(url("/big?bytes=1001")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "response from 127.0.0.1 larger than 1000 bytes");
}

TEST_F(HttpClientTest, ChunkedBodyOverTheCapIsRefusedPromptly) {
  CurlHttpClient client(config(10000, 1000));
  auto start = Clock::now();
  auto r = client.send(http_get(url("/big?bytes=100000000&chunked=1")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(r.error().reason, "response from 127.0.0.1 larger than 1000 bytes");
  EXPECT_LT(ms_since(start), 2000);

  r = client.send(http_get(url("/big?bytes=1001&chunked=1")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
}

TEST_F(HttpClientTest, BodyExactlyAtTheCapIsAccepted) {
  CurlHttpClient client(config(10000, 1000));
  for (const char* path : {"/big?bytes=1000", "/big?bytes=1000&chunked=1"}) {
    auto r = client.send(http_get(url(path)));
    ASSERT_TRUE(r.ok()) << path << ": " << r.error().reason;
    EXPECT_EQ(r->body, std::string(1000, 'x')) << path;
  }
}

TEST_F(HttpClientTest, OversizedResponseHeadersAreRefused) {
  CurlHttpClient client(config());
  auto r = client.send(http_get(url("/headers?count=100&size=1000")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_NE(r.error().reason.find("headers from 127.0.0.1"), std::string::npos) << r.error().reason;
}

// ---- nothing of the URL beyond the host in a reason --------------------------

TEST_F(HttpClientTest, ErrorReasonsNeverContainTheQuery) {
  const std::string secret = "?code=SECRETCODE&state=SECRETSTATE";
  std::vector<Error> errors;
  {
    CurlHttpClient client(config(300, 100));
    for (const std::string& u :
         {url("/hang" + secret), url("/big?bytes=1000&code=SECRETCODE"),
          url("/big?bytes=1000&chunked=1&code=SECRETCODE"),
          "http://127.0.0.1:" + std::to_string(testutil::free_port()) + "/token" + secret,
          "ftp://127.0.0.1/token" + secret, "not a url" + secret, "http://[::1" + secret}) {
      auto r = client.send(http_get(u));
      ASSERT_FALSE(r.ok()) << u;
      errors.push_back(r.error());
    }
  }
  for (const auto& e : errors) {
    EXPECT_EQ(e.reason.find("SECRET"), std::string::npos) << e.reason;
    EXPECT_EQ(e.reason.find("code="), std::string::npos) << e.reason;
    EXPECT_NE(e.kind, ErrorKind::internal) << e.reason;
  }
}

// ---- TLS ---------------------------------------------------------------------

class HttpClientTlsTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    http_global_init();
    dir_ = new testutil::TempDir();
    cert_ = dir_->file("cert.pem");
    std::string key = dir_->file("key.pem");
    auto [code, out] = testutil::run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                                      key, "-out", cert_, "-subj", "/CN=127.0.0.1", "-addext",
                                      "subjectAltName=IP:127.0.0.1", "-days", "1"});
    ASSERT_EQ(code, 0) << out;
    port_ = testutil::free_port();
    server_ = start_server(port_, dir_->file("server.log"), {"--tls", cert_, key}).release();
    ASSERT_NE(server_, nullptr) << "TLS test server did not start on port " << port_;
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }
  static HttpConfig config() {
    HttpConfig c;
    c.connect_timeout_ms = 2000;
    c.timeout_ms = 5000;
    return c;
  }

  static inline testutil::TempDir* dir_ = nullptr;
  static inline testutil::Process* server_ = nullptr;
  static inline std::string cert_;
  static inline int port_ = 0;
};

TEST_F(HttpClientTlsTest, SelfSignedCertificateIsRefusedByDefault) {
  CurlHttpClient client(config());
  auto r = client.send(http_get("https://127.0.0.1:" + std::to_string(port_) + "/echo?code=SECRETCODE"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(r.error().reason.rfind("127.0.0.1: ", 0), 0u) << r.error().reason;
  EXPECT_NE(r.error().reason.find("certificate"), std::string::npos) << r.error().reason;
  EXPECT_EQ(r.error().reason.find("SECRETCODE"), std::string::npos) << r.error().reason;
}

TEST_F(HttpClientTlsTest, CaFileIsTrusted) {
  HttpConfig c = config();
  c.ca_file = cert_;
  CurlHttpClient client(c);
  auto r = client.send(http_get("https://127.0.0.1:" + std::to_string(port_) + "/echo?a=1"));
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(parse_echo(r->body).query, "a=1");
}

TEST_F(HttpClientTlsTest, HostNameIsVerifiedEvenWithATrustedCa) {
  HttpConfig c = config();
  c.ca_file = cert_;
  CurlHttpClient client(c);
  // The certificate names IP 127.0.0.1 only; "localhost" reaches the same server.
  auto r = client.send(http_get("https://localhost:" + std::to_string(port_) + "/echo"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::provider_error);
  EXPECT_EQ(r.error().reason.rfind("localhost: ", 0), 0u) << r.error().reason;
  EXPECT_NE(r.error().reason.find("certificate"), std::string::npos) << r.error().reason;
}

} // namespace
