// oauth-api's rules as functions of plain values (docs/routes.md, "The provider's API"):
// the api_allow rules, the path a browser may ask for, what crosses the relay each way,
// and Link headers pointed back at the relay. handle_api.cpp applies them in the
// contract's order; nothing here touches the network or Redis.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "headers.hpp"
#include "http_client.hpp"
#include "request.hpp"

namespace oauthfcgi {

// One api_allow entry, "METHOD:/pattern" (GET:/user/repos, POST:/repos/*/*/issues,
// GET:/repos/**). The reason says what is wrong with it.
Result<ApiRule> parse_api_rule(std::string_view text);

// A path the relay may forward: its raw bytes (percent-encodings kept, sent on as they
// came) and its decoded segments (what api_allow matches).
struct ApiPath {
  std::string raw;                   // "user/repos", no leading '/'
  std::vector<std::string> segments; // {"user", "repos"}
};

// The part of a request path after <prefix>/api/<provider>/, checked: no '.' or '..'
// segment, no empty segment, no backslash, no encoded '/', '\', '.' or NUL, no control
// character or space (raw or encoded), at least one segment. bad_request with code
// "bad_path" otherwise.
Result<ApiPath> parse_api_path(std::string_view raw);

// Whether some rule takes this method and path.
bool api_allowed(const std::vector<ApiRule>& rules, std::string_view method,
                 const std::vector<std::string>& segments);

// The browser's headers that are sent on: Accept, Accept-Language, Content-Type,
// If-None-Match, If-Modified-Since, If-Match, when present. Never Cookie,
// Authorization, X-CSRF, Host or X-Forwarded-*.
Headers api_forwarded_headers(const Request& request);

// The upstream answer's headers the browser gets: Content-Type, ETag, Last-Modified,
// Retry-After, X-RateLimit-* and Link, the Link's URLs under api_url pointed at
// relay_base (public_url + prefix + "/api/<provider>"). Never Set-Cookie.
Headers api_answer_headers(const HttpResponse& response, std::string_view api_url,
                           std::string_view relay_base);

// A Link header value with each <URL> under api_url rewritten to relay_base + the rest;
// URLs elsewhere are dropped with their parameters (they would leave the relay).
std::string rewrite_link(std::string_view link, std::string_view api_url, std::string_view relay_base);

} // namespace oauthfcgi
