// The FastCGI request: its parameters, headers, cookies and the size limits (request.hpp).
#include "request.hpp"
#include "cookie.hpp"
#include "text.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace oauthfcgi {

namespace {

// A parameter's value, or "" when absent.
std::string_view value_of(const Request::Env& env, std::string_view name) {
  return env.find(name).value_or(std::string_view{});
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

Request::Env::Env(std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
  size_t bytes = 0;
  for (const auto& [name, value] : params)
    bytes += name.size() + 1 + value.size();
  buf_.reserve(bytes);
  index_.reserve(params.size());
  for (const auto& [name, value] : params)
    add(name, value);
}

Request::Env Request::Env::from_envp(const char* const* envp) {
  Env env;
  size_t count = 0, bytes = 0;
  for (const char* const* p = envp; p && *p; ++p, ++count)
    bytes += std::strlen(*p);
  // "NAME=value" goes into the buffer as it is: one copy per parameter.
  env.buf_.resize(bytes);
  env.index_.reserve(count);
  size_t at = 0;
  for (const char* const* p = envp; p && *p; ++p) {
    size_t size = std::strlen(*p);
    const char* eq = static_cast<const char*>(std::memchr(*p, '=', size));
    if (!eq) continue;
    std::memcpy(env.buf_.data() + at, *p, size);
    size_t name_size = static_cast<size_t>(eq - *p);
    env.index_.push_back({at, name_size, size - name_size - 1});
    at += size;
  }
  env.buf_.resize(at);
  return env;
}

void Request::Env::add(std::string_view name, std::string_view value) {
  index_.push_back({buf_.size(), name.size(), value.size()});
  buf_.append(name).append(1, '=').append(value);
}

std::optional<std::string_view> Request::Env::find(std::string_view name) const {
  for (const Span& s : index_)
    if (Param p = at(s); p.name == name) return p.value;
  return std::nullopt;
}

void Request::Env::set(std::string_view name, std::string_view value) {
  erase(name);
  add(name, value);
}

// The bytes stay in buf_ until the Env goes; only tests erase.
void Request::Env::erase(std::string_view name) {
  index_.erase(
      std::remove_if(index_.begin(), index_.end(), [&](const Span& s) { return at(s).name == name; }),
      index_.end());
}

Request::Request(Env env, std::string body) : env_(std::move(env)), body_(std::move(body)) {
  method_ = value_of(env_, "REQUEST_METHOD");
  if (method_.empty()) method_ = "GET";
  std::string_view script = value_of(env_, "SCRIPT_NAME"), path = value_of(env_, "PATH_INFO");
  route_.reserve(script.size() + path.size());
  route_.append(script).append(path);
  if (route_.empty()) {
    // nginx without fastcgi_split_path_info may pass only DOCUMENT_URI; it has no query,
    // but a misconfigured server could pass one, so cut it off.
    std::string_view uri = value_of(env_, "DOCUMENT_URI");
    route_ = uri.substr(0, uri.find('?'));
  }
  query_string_ = value_of(env_, "QUERY_STRING");
  query_ = parse_query(query_string_);
}

std::optional<std::string> Request::cookie(std::string_view name) const {
  std::optional<std::string_view> h = env_.find("HTTP_COOKIE");
  if (!h) return std::nullopt;
  return parse_cookie(*h, name);
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  std::string key;
  key.reserve(name.size() + 5);
  for (char c : name)
    key += c == '-' ? '_' : ascii_toupper(c);
  // CGI passes these two without the HTTP_ prefix.
  if (key != "CONTENT_TYPE" && key != "CONTENT_LENGTH") key.insert(0, "HTTP_");
  return env_.find(key);
}

Result<size_t> content_length(const Request::Env& env) {
  std::optional<std::string_view> v = env.find("CONTENT_LENGTH");
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
  if (auto q = env.find("QUERY_STRING"); q && over(q->size(), limits.max_query_bytes))
    return make_error(ErrorKind::uri_too_long,
                      limit_reason("query string is", q->size(), "max_query_bytes", limits.max_query_bytes));
  if (auto c = env.find("HTTP_COOKIE"); c && over(c->size(), limits.max_cookie_bytes))
    return make_error(
        ErrorKind::headers_too_large,
        limit_reason("Cookie header is", c->size(), "max_cookie_bytes", limits.max_cookie_bytes));
  // Every HTTP_* parameter counts, a name sent twice too: those bytes came.
  size_t headers = 0;
  for (auto [name, value] : env)
    if (name.compare(0, 5, "HTTP_") == 0) headers += name.size() + value.size();
  if (over(headers, limits.max_header_bytes))
    return make_error(
        ErrorKind::headers_too_large,
        limit_reason("request headers are", headers, "max_header_bytes", limits.max_header_bytes));
  return check_body_limit(env, limits);
}

Result<void> check_body_limit(const Request::Env& env, const LimitsConfig& limits) {
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
