// An HttpClient that answers from a script, for tests of code that calls providers.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http_client.hpp"

namespace testutil {

class FakeHttp : public oauthfcgi::HttpClient {
public:
  using Reply = std::function<oauthfcgi::Result<oauthfcgi::HttpResponse>(const oauthfcgi::HttpRequest&)>;
  // Answers requests whose URL starts with `prefix` (first match wins).
  void on(std::string prefix, Reply reply) { routes_.push_back({std::move(prefix), std::move(reply)}); }
  void on_json(std::string prefix, long status, std::string body) {
    on(std::move(prefix),
       [status, body](const oauthfcgi::HttpRequest&) -> oauthfcgi::Result<oauthfcgi::HttpResponse> {
         oauthfcgi::HttpResponse r;
         r.status = status;
         r.headers = {{"content-type", "application/json"}};
         r.body = body;
         return r;
       });
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

} // namespace testutil
