// The project's one percent-codec and URL toolkit. Encoding gives curl_easy_escape's
// bytes, parsing goes through libcurl's CURLU: nothing else in the project encodes or
// splits URLs by hand.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"

namespace oauthfcgi {

using Param = std::pair<std::string, std::string>;
using Params = std::vector<Param>; // order and duplicates kept

// RFC 3986 unreserved characters stay, everything else is %XX.
std::string url_encode(std::string_view s);
// %XX decoded; with plus_as_space (form encoding) '+' becomes ' '.
// Malformed escapes ("%G1", "%4") are kept literally.
std::string url_decode(std::string_view s, bool plus_as_space = true);

// application/x-www-form-urlencoded ("a=1&b=2&a=3"), both ways.
Params parse_query(std::string_view query);
std::string build_query(const Params& params);

// Outcome of looking a name up in Params.
enum class ParamState { missing, single, duplicated };
struct ParamLookup {
  ParamState state = ParamState::missing;
  std::string value; // when single
};
ParamLookup find_param(const Params& params, std::string_view name);

struct UrlParts {
  std::string scheme; // lower case
  std::string host;   // lower case, IPv6 without brackets
  int port = 0;       // explicit or the scheme's default
  std::string path;   // "/" when empty
  std::string query;  // without '?'
};
// Absolute http(s) URLs only.
Result<UrlParts> parse_url(std::string_view url);

// url with params appended to its query (after '?' or '&', before any fragment).
// An absolute URL comes back as CURLU writes it; each thread asks CURLU once per base
// URL and splices the queries after that by concatenation (same bytes, no parse).
Result<std::string> append_query(std::string_view url, const Params& params);

// localhost, 127.0.0.0/8, ::1.
bool is_loopback_host(std::string_view host);

// "https://host[:port]" of an absolute URL, default ports omitted.
Result<std::string> url_origin(std::string_view url);

// Whether `url` is under `prefix` (allow_urls): the same scheme, host and port, and a
// path that, once curl has resolved "." and "..", is the prefix's path or goes on
// below it at a '/' ("/v1" admits "/v1" and "/v1/x", not "/v10"). A path holding
// %2e, %2f, %5c or '\' (a dot or a slash to some servers, not to curl) is under no
// prefix. False when either is not an absolute http(s) URL.
bool url_under_prefix(std::string_view url, std::string_view prefix);
// Under any of them.
bool url_under_any(std::string_view url, const std::vector<std::string>& prefixes);

} // namespace oauthfcgi
