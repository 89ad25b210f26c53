// The one log line per request: time, program, request id, status, duration, and the
// provider the handler names through Response::annotate, in text and in JSON.
#include "serve.hpp"

#include <gtest/gtest.h>

#include <cjson/cJSON.h>

#include "handler_harness.hpp"
#include "handlers.hpp"
#include "routes.hpp"

using namespace oauthfcgi;

namespace {

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

// A config with one github provider, an in-memory store, an HTTP client with no routes, and a
// log that keeps its lines.
class RequestLog : public testutil::HandlerTest {
protected:
  void SetUp() override {
    load_config("[server]\npublic_url = https://www.example.com\nsecret_file = secret\n"
                "[provider github]\ntype = github\nclient_id = Iv1.abc\nclient_secret = xyz\n");
  }

  // Runs program through the serve loop's handle_request with a log in `format`.
  Response run(const Program& program, Request::Env env, LogFormat format = LogFormat::text) {
    Log log(program.name, LogLevel::info, format);
    lines_.capture(log);
    Context ctx = context(http_, log);
    return handle_request(program, Request(std::move(env)), ctx);
  }

  // The "request" line (there is exactly one per request).
  std::string request_line() const {
    std::string found;
    int n = 0;
    for (const auto& l : lines_.lines()) {
      if (contains(l, "event=request") || contains(l, "\"event\":\"request\"")) {
        found = l;
        ++n;
      }
    }
    EXPECT_EQ(n, 1) << all();
    return found;
  }
  std::string all() const { return lines_.all(); }

  static Request::Env get(const std::string& route) {
    return {{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", route}};
  }

  testutil::LogLines lines_;
};

const Program kConnect{"oauth-connect", "", {route("connect")}};

} // namespace

TEST_F(RequestLog, TextLineHasTimeProgramIdStatusProviderAndDuration) {
  Response r = run(kConnect, get("/auth/connect/github"));
  ASSERT_EQ(r.status, 302);
  std::string line = request_line();
  // 2024-01-02T03:04:05.678Z info oauth-connect req=0123456789abcdef event=request method=GET
  // route=/auth/connect/github status=302 provider=github duration_ms=0
  EXPECT_EQ(line.find('T'), 10u) << line;
  EXPECT_TRUE(contains(line, "Z info oauth-connect req=")) << line;
  EXPECT_TRUE(contains(line,
                       " event=request method=GET route=/auth/connect/github status=302 provider=github "
                       "duration_ms="))
      << line;
  size_t req = line.find("req=");
  EXPECT_EQ(line.find(' ', req) - req, 4u + 16u) << "a 16-hex-digit request id: " << line;
  // No state, code, cookie or URL query in the line.
  EXPECT_FALSE(contains(line, "state")) << line;
  EXPECT_FALSE(contains(line, "Location")) << line;
}

TEST_F(RequestLog, JsonLineHasTheSameFields) {
  ASSERT_EQ(run(kConnect, get("/auth/connect/github"), LogFormat::json).status, 302);
  std::string line = request_line();
  std::unique_ptr<cJSON, decltype(&cJSON_Delete)> json(cJSON_Parse(line.c_str()), &cJSON_Delete);
  ASSERT_TRUE(json) << line;
  auto field = [&](const char* name) {
    const cJSON* item = cJSON_GetObjectItemCaseSensitive(json.get(), name);
    return cJSON_IsString(item) ? std::string(item->valuestring) : std::string("(missing)");
  };
  EXPECT_EQ(field("level"), "info");
  EXPECT_EQ(field("program"), "oauth-connect");
  EXPECT_EQ(field("event"), "request");
  EXPECT_EQ(field("status"), "302");
  EXPECT_EQ(field("provider"), "github");
  EXPECT_EQ(field("route"), "/auth/connect/github");
  EXPECT_EQ(field("request_id").size(), 16u);
  EXPECT_EQ(field("time").size(), 24u) << field("time"); // 2024-01-02T03:04:05.678Z
  EXPECT_NE(field("duration_ms"), "(missing)");
}

TEST_F(RequestLog, ConnectNamesTheProviderOnItsErrorsToo) {
  store_.set_unavailable(true); // the state cannot be stored: 503
  Response r = run(kConnect, get("/auth/connect/github"));
  EXPECT_EQ(r.status, 503);
  std::string line = request_line();
  EXPECT_TRUE(contains(line, "status=503 provider=github")) << line;
}

TEST_F(RequestLog, NoProviderWhenNoneIsConfiguredUnderThatName) {
  // A name from the URL that is not in the config never reaches the log as a provider.
  EXPECT_EQ(run(kConnect, get("/auth/connect/evil")).status, 404);
  EXPECT_FALSE(contains(request_line(), "provider=")) << all();
  lines_.clear();
  EXPECT_EQ(run(kConnect, get("/auth/connect")).status, 302); // one provider: on to /auth/connect/github
  EXPECT_FALSE(contains(request_line(), "provider=")) << all();
}

TEST_F(RequestLog, AnnotationsCannotOverrideTheLoopsFieldsAndSecretsAreRedacted) {
  Program p = catch_all_program("oauth-test", "", [](const Request&, Context&) {
    Response r = Response::empty(204);
    r.annotate("status", "200");
    r.annotate("duration_ms", "0");
    r.annotate("provider", "first");
    r.annotate("provider", "gitlab"); // replaces
    r.annotate("access_token", "gho_SECRET");
    return r;
  });
  Response r = run(p, get("/x"));
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(contains(r.serialize(), "gitlab")) << "annotations are never sent";
  std::string line = request_line();
  EXPECT_TRUE(contains(line, "status=204 provider=gitlab access_token=[redacted] duration_ms=")) << line;
  EXPECT_FALSE(contains(line, "status=200")) << line;
  EXPECT_FALSE(contains(line, "first")) << line;
  EXPECT_FALSE(contains(line, "SECRET")) << line;
}

TEST_F(RequestLog, RefusedRequestsAreLoggedWithTheirStatus) {
  Request::Env env = get("/auth/connect/github");
  env["QUERY_STRING"] = std::string(9000, 'q');
  EXPECT_EQ(run(kConnect, env).status, 414);
  std::string line = request_line();
  EXPECT_TRUE(contains(line, "status=414")) << line;
  EXPECT_TRUE(contains(line, "refused=")) << line;
}
