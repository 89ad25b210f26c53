// What a handler may use (Context), and the two ways it answers an error: in the
// style of the request's route, logged or not.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "clock.hpp"
#include "config.hpp"
#include "crypto.hpp"
#include "error.hpp"
#include "http_client.hpp"
#include "log.hpp"
#include "request.hpp"
#include "response.hpp"
#include "store.hpp"

namespace oauthfcgi {

// One per worker thread; config and keys are shared, read-only. The pipeline copies it
// for each request and fills in the request's part. The programs pass system_clock()
// and system_random(); tests pass fakes.
struct Context {
  const Config& config;
  const Keys& keys;
  Store& store;
  HttpClient& http;
  const Log& log;       // carries this request's id
  const Clock& clock;   // the only time handlers and flows read
  const Random& random; // the only randomness they draw
  // This request's route (serve.hpp Route), set by the pipeline:
  ErrorStyle error_style = ErrorStyle::html; // how its errors are answered
  std::string route_name = {};               // the "/<name>" after the route's path, without '/'
  std::optional<std::string> session = {};   // the session cookie, when well-formed and the route reads it
  // The display name of the provider this request calls, set by ready_provider(): a 502
  // or 504 page names it ("GitHub did not answer in time.").
  std::string provider_display = {};
};

using Handler = std::function<Response(const Request&, Context&)>;

// route_prefix + "/connect": where every "start again" link and 401 redirect points.
std::string login_path(const Config& config);

// The error in the route's style (error_response: a 5xx names the provider the request
// calls and the request id, never its reason); an HTML page links to a new login.
Response error_answer(const Context& context, const Error& error);
// The same, after a log line under event with the status and reason (error level from 500).
Response fail(const Context& context, const Error& error, std::string_view event);

} // namespace oauthfcgi
