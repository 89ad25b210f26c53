// The whole request path of every program: limits, route, query, cookies, headers
// (Origin, Sec-Fetch-Site, Host, REQUEST_URI) and body, against an in-memory Redis
// and a provider that answers nothing (oauth-api's relay included, its path read from
// REQUEST_URI). Input: method\nroute\nquery\ncookie\norigin\n
// request_uri\nhost\nbody.
#include "fake_http.hpp"
#include "fuzz_common.hpp"
#include "handlers.hpp"
#include "memory_store.hpp"
#include "routes.hpp"

using namespace oauthfcgi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = fuzz::parts(fuzz::as_text(data, size), 8);
  Request::Env env = {{"REQUEST_METHOD", p[0]},
                      {"SCRIPT_NAME", p[1]},
                      {"QUERY_STRING", p[2]},
                      {"HTTP_COOKIE", p[3]},
                      {"HTTP_ORIGIN", p[4]},
                      {"REQUEST_URI", p[5]},
                      {"HTTP_HOST", p[6]},
                      {"HTTP_SEC_FETCH_SITE", p[4]},
                      {"HTTP_X_CSRF", "1"}, // past oauth-api's CSRF check, to its path rules
                      {"CONTENT_LENGTH", std::to_string(p[7].size())}};
  static const Config& config = fuzz::config();
  static const Keys keys = derive_keys(config.server.secret);
  testutil::MemoryStore store;
  testutil::FakeHttp http;
  Log log("fuzz", LogLevel::error, LogFormat::text);
  log.set_sink([](void*, std::string_view) {}, nullptr);
  Context ctx{config, keys, store, http, log, system_clock(), system_random()};
  Request request(env, p[7]);
  for (const char* name : {"connect", "callback", "profile", "logout", "check", "api"}) {
    Program program{"fuzz", "fuzz", {route(name)}};
    Response r = handle_request(program, request, ctx);
    std::string wire = r.serialize();
    // No header may carry a raw CR or LF from the input (header splitting).
    size_t end = wire.find("\r\n\r\n");
    std::string_view head(wire.data(), end == std::string::npos ? wire.size() : end);
    for (size_t i = 0; i < head.size(); ++i)
      if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) __builtin_trap();
  }
  return 0;
}
