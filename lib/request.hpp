// An incoming request as the web server described it (FastCGI/CGI parameters and
// a body), with the accessors handlers need. Built from plain strings so tests and
// fuzzers can make one without a socket.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "error.hpp"
#include "url.hpp"

namespace oauthfcgi {

class Request {
public:
  using Env = std::map<std::string, std::string, std::less<>>;
  Request(Env env, std::string body = {});

  const std::string& method() const { return method_; }
  // SCRIPT_NAME + PATH_INFO, or DOCUMENT_URI when both are empty; never REQUEST_URI.
  const std::string& route() const { return route_; }
  const std::string& query_string() const { return query_string_; }
  const Params& query() const { return query_; }
  ParamLookup query_param(std::string_view name) const { return find_param(query_, name); }
  // A cookie's value; nullopt when missing, sent twice or malformed.
  std::optional<std::string> cookie(std::string_view name) const;
  // An HTTP request header by its name ("Origin" reads HTTP_ORIGIN); nullptr when absent.
  const std::string* header(std::string_view name) const;
  // A raw FastCGI/CGI parameter (REQUEST_URI, REMOTE_ADDR, ...); nullptr when absent.
  const std::string* param(std::string_view name) const;
  const std::string& body() const { return body_; }
  const Env& env() const { return env_; }

private:
  Env env_;
  std::string body_;
  std::string method_, route_, query_string_;
  Params query_;
};

// [limits]: query over max_query_bytes -> uri_too_long (414); Cookie header over
// max_cookie_bytes or all HTTP_* headers over max_header_bytes -> headers_too_large
// (431); CONTENT_LENGTH over max_body_bytes -> body_too_large (413).
Result<void> check_limits(const Request::Env& env, const LimitsConfig& limits);

// CONTENT_LENGTH parsed strictly (digits only); 0 when absent or empty. A value that is
// not a number is bad_request; one too large to hold is body_too_large.
Result<size_t> content_length(const Request::Env& env);

// Cookie header "a=1; b=2" -> value of `name`; nullopt when missing, duplicated or
// malformed (no '=', or a value RFC 6265 does not allow). One pair of surrounding
// quotes is removed; nothing is decoded.
std::optional<std::string> parse_cookie(std::string_view cookie_header, std::string_view name);

} // namespace oauthfcgi
