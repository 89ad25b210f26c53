// Keeping a lock's lease while an HTTP call runs: the lock's Heartbeat (lock.hpp)
// wired to the HTTP client's progress callback, which beats on the calling thread
// (its own Store connection) while the server answers.
#pragma once

#include "http_client.hpp"
#include "lock.hpp"

namespace oauthfcgi {

// Makes `request` call heartbeat.beat every heartbeat.every while it runs.
void keep_alive(HttpRequest& request, const Heartbeat& heartbeat);

// An HttpClient whose every call extends `lock`'s lease while the server answers
// (for code that takes an HttpClient: a token refresh, an ID token's JWKS).
class LeaseKeepingHttp : public HttpClient {
public:
  LeaseKeepingHttp(HttpClient& inner, StoreLock& lock) : inner_(inner), heartbeat_(lock.heartbeat()) {}
  Result<HttpResponse> send(const HttpRequest& request) override;

private:
  HttpClient& inner_;
  Heartbeat heartbeat_;
};

} // namespace oauthfcgi
