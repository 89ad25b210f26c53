// Outgoing HTTP to providers. HttpClient is the interface handlers use (tests pass
// fakes); CurlHttpClient is the real one: one reused curl handle per worker thread
// (keep-alive), [http] timeouts, TLS verification always on, max_response_bytes
// enforced while the body arrives.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "headers.hpp"
#include "url.hpp"

namespace oauthfcgi {

struct HttpRequest {
  std::string method = "GET"; // GET, POST, DELETE, ...
  std::string url;
  Headers headers;  // sent as given
  std::string body; // sent when non-empty or method is POST
  // HTTP Basic auth (client_secret_basic): both set = sent.
  std::string basic_user, basic_password;
  // Called on the calling thread while the call is in progress, at most once per
  // heartbeat_every (libcurl's progress callback comes about once a second when
  // nothing arrives): e.g. to extend a lock's lease while a slow provider answers.
  // Exceptions from it are swallowed; it cannot stop the call.
  std::function<void()> heartbeat;
  std::chrono::milliseconds heartbeat_every{1000};
};

struct HttpResponse {
  long status = 0;
  Headers headers; // names lower-cased, in arrival order
  std::string body;
  // First header with this (case-insensitive) name, or nullptr.
  const std::string* header(std::string_view name) const;
};

// Error::code of a transport error whose answer was over max_response_bytes.
constexpr std::string_view kResponseTooLarge = "response_too_large";

class HttpClient {
public:
  virtual ~HttpClient() = default;
  // A transport failure is an Error: provider_timeout past timeout_ms,
  // provider_error otherwise (unreachable, TLS refused, body over the cap: code
  // kResponseTooLarge).
  // Any HTTP status, 4xx/5xx included, is a response, not an error.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

// Convenience builders.
HttpRequest http_get(std::string url, Headers headers = {});
HttpRequest http_post_form(std::string url, const Params& form, Headers headers = {});

class CurlHttpClient : public HttpClient {
public:
  explicit CurlHttpClient(const HttpConfig& config, std::string user_agent = "oauth-fcgi");
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;
  Result<HttpResponse> send(const HttpRequest& request) override;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Call once at program start, before threads (curl_global_init is not thread-safe).
void http_global_init();

} // namespace oauthfcgi
