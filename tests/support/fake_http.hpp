// An HttpClient that answers from a script, for tests of code that calls providers.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config.hpp"
#include "http_client.hpp"

namespace testutil {

class FakeHttp : public oauthfcgi::HttpClient {
public:
  using Reply = std::function<oauthfcgi::Result<oauthfcgi::HttpResponse>(const oauthfcgi::HttpRequest&)>;
  // Answers requests whose URL starts with `prefix` (first match wins).
  void on(std::string prefix, Reply reply) { routes_.push_back({std::move(prefix), std::move(reply)}); }
  // A fixed answer; headers lower-cased as the real client gives them.
  void on_answer(std::string prefix, long status, oauthfcgi::Headers headers, std::string body) {
    on(std::move(prefix),
       [status, headers, body](const oauthfcgi::HttpRequest&) -> oauthfcgi::Result<oauthfcgi::HttpResponse> {
         oauthfcgi::HttpResponse r;
         r.status = status;
         r.headers = headers;
         r.body = body;
         return r;
       });
  }
  void on_json(std::string prefix, long status, std::string body) {
    on_answer(std::move(prefix), status, {{"content-type", "application/json"}}, std::move(body));
  }
  oauthfcgi::Result<oauthfcgi::HttpResponse> send(const oauthfcgi::HttpRequest& request) override {
    requests.push_back(request);
    for (auto& [prefix, reply] : routes_)
      if (request.url.compare(0, prefix.size(), prefix) == 0) return reply(request);
    return oauthfcgi::make_error(oauthfcgi::ErrorKind::provider_error, "fake: no route");
  }
  std::vector<oauthfcgi::HttpRequest> requests;

private:
  std::vector<std::pair<std::string, Reply>> routes_;
};

// Whether a form-encoded request body has the field `pair` ("name=value", encoded as sent).
inline bool form_has(const oauthfcgi::HttpRequest& r, const std::string& pair) {
  return ("&" + r.body + "&").find("&" + pair + "&") != std::string::npos;
}

// The value of the request header `name` (as the caller spelled it), or "<none>".
inline std::string header_of(const oauthfcgi::HttpRequest& r, const std::string& name) {
  for (auto& [n, v] : r.headers)
    if (n == name) return v;
  return "<none>";
}

// Provider sections for flow tests. resolve_provider keeps a pointer to the section:
// hold it in a variable that outlives the Provider.
inline oauthfcgi::ProviderConfig github_test_config() {
  oauthfcgi::ProviderConfig c;
  c.name = "github";
  c.type = oauthfcgi::ProviderType::github;
  c.client_id = "Iv1.client";
  c.client_secret = "s3cret";
  return c;
}
inline oauthfcgi::ProviderConfig facebook_test_config() {
  oauthfcgi::ProviderConfig c;
  c.name = "facebook";
  c.type = oauthfcgi::ProviderType::facebook;
  c.client_id = "1234567890";
  c.client_secret = "app-secret";
  c.graph_version = "v19.0";
  return c;
}

} // namespace testutil
