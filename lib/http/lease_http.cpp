// A lock's heartbeat on an HTTP call (lease_http.hpp).
#include "lease_http.hpp"

namespace oauthfcgi {

void keep_alive(HttpRequest& request, const Heartbeat& heartbeat) {
  request.heartbeat = heartbeat.beat;
  request.heartbeat_every = heartbeat.every;
}

Result<HttpResponse> LeaseKeepingHttp::send(const HttpRequest& request) {
  HttpRequest r = request;
  keep_alive(r, heartbeat_);
  return inner_.send(r);
}

} // namespace oauthfcgi
