#include "request.hpp"

#include <cctype>
#include <limits>

namespace oauthfcgi {

namespace {

const std::string* find_env(const Request::Env& env, std::string_view name) {
  auto it = env.find(name);
  return it == env.end() ? nullptr : &it->second;
}

std::string env_or(const Request::Env& env, std::string_view name, std::string fallback = {}) {
  const std::string* v = find_env(env, name);
  return v ? *v : std::move(fallback);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// RFC 6265 cookie-octet: no controls, whitespace, DQUOTE, comma, semicolon or backslash.
bool is_cookie_octet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) || (c >= 0x3C && c <= 0x5B) ||
         (c >= 0x5D && c <= 0x7E);
}

// A cookie value as RFC 6265 allows it, with one pair of surrounding quotes removed.
std::optional<std::string> cookie_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  for (char c : v)
    if (!is_cookie_octet(static_cast<unsigned char>(c))) return std::nullopt;
  return std::string(v);
}

// "query string is 9000 bytes; the limit is max_query_bytes = 8192"
std::string limit_reason(std::string_view what, size_t size, std::string_view key, long limit) {
  return std::string(what) + " " + std::to_string(size) + " bytes; the limit is " + std::string(key) + " = " +
         std::to_string(limit);
}

bool over(size_t size, long limit) {
  return limit >= 0 && size > static_cast<unsigned long>(limit);
}

} // namespace

Request::Request(Env env, std::string body) : env_(std::move(env)), body_(std::move(body)) {
  method_ = env_or(env_, "REQUEST_METHOD");
  if (method_.empty()) method_ = "GET";
  route_ = env_or(env_, "SCRIPT_NAME") + env_or(env_, "PATH_INFO");
  if (route_.empty()) {
    // nginx without fastcgi_split_path_info may pass only DOCUMENT_URI; it has no query,
    // but a misconfigured server could pass one, so cut it off.
    route_ = env_or(env_, "DOCUMENT_URI");
    route_ = route_.substr(0, route_.find('?'));
  }
  query_string_ = env_or(env_, "QUERY_STRING");
  query_ = parse_query(query_string_);
}

std::optional<std::string> Request::cookie(std::string_view name) const {
  const std::string* h = find_env(env_, "HTTP_COOKIE");
  if (!h) return std::nullopt;
  return parse_cookie(*h, name);
}

const std::string* Request::header(std::string_view name) const {
  std::string key;
  key.reserve(name.size() + 5);
  for (char c : name)
    key += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // CGI passes these two without the HTTP_ prefix.
  if (key != "CONTENT_TYPE" && key != "CONTENT_LENGTH") key.insert(0, "HTTP_");
  return find_env(env_, key);
}

const std::string* Request::param(std::string_view name) const {
  return find_env(env_, name);
}

std::optional<std::string> parse_cookie(std::string_view header, std::string_view name) {
  if (name.empty()) return std::nullopt;
  std::optional<std::string> found;
  bool seen = false;
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    size_t eq = pair.find('=');
    std::string_view n = trim(pair.substr(0, eq));
    if (n != name) continue;
    // Sent twice (e.g. one set for a parent domain by another site): we cannot tell
    // which is ours, so neither counts.
    if (seen) return std::nullopt;
    seen = true;
    if (eq != std::string_view::npos) found = cookie_value(trim(pair.substr(eq + 1)));
  }
  return found;
}

Result<size_t> content_length(const Request::Env& env) {
  const std::string* v = find_env(env, "CONTENT_LENGTH");
  // nginx passes CONTENT_LENGTH="" for requests without a body.
  if (!v || v->empty()) return size_t{0};
  if (v->size() > 19) return make_error(ErrorKind::body_too_large, "CONTENT_LENGTH is too large");
  size_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return make_error(ErrorKind::bad_request, "CONTENT_LENGTH is not a number");
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n;
}

Result<void> check_limits(const Request::Env& env, const LimitsConfig& limits) {
  if (const std::string* q = find_env(env, "QUERY_STRING"); q && over(q->size(), limits.max_query_bytes))
    return make_error(ErrorKind::uri_too_long,
                      limit_reason("query string is", q->size(), "max_query_bytes", limits.max_query_bytes));
  if (const std::string* c = find_env(env, "HTTP_COOKIE"); c && over(c->size(), limits.max_cookie_bytes))
    return make_error(
        ErrorKind::headers_too_large,
        limit_reason("Cookie header is", c->size(), "max_cookie_bytes", limits.max_cookie_bytes));
  size_t headers = 0;
  for (auto it = env.lower_bound("HTTP_"); it != env.end() && it->first.compare(0, 5, "HTTP_") == 0; ++it)
    headers += it->first.size() + it->second.size();
  if (over(headers, limits.max_header_bytes))
    return make_error(
        ErrorKind::headers_too_large,
        limit_reason("request headers are", headers, "max_header_bytes", limits.max_header_bytes));
  auto length = content_length(env);
  if (!length) {
    if (length.error().kind == ErrorKind::body_too_large)
      return make_error(ErrorKind::body_too_large,
                        "request body is too large; the limit is max_body_bytes = " +
                            std::to_string(limits.max_body_bytes));
    return length.error();
  }
  if (over(*length, limits.max_body_bytes))
    return make_error(ErrorKind::body_too_large,
                      limit_reason("request body is", *length, "max_body_bytes", limits.max_body_bytes));
  return {};
}

} // namespace oauthfcgi
