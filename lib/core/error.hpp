// Errors as values: a kind callers may branch on, and a reason a person can act on.
// The one place that maps an error to an HTTP status is http_status() below.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace oauthfcgi {

enum class ErrorKind {
  bad_request,        // 400: bad or missing parameter, unknown/used/expired state
  unauthenticated,    // 401: no valid session
  forbidden,          // 403: access rule, user said no, cross-site request
  not_found,          // 404: unknown provider or route
  method_not_allowed, // 405
  body_too_large,     // 413
  uri_too_long,       // 414
  headers_too_large,  // 431: cookies or headers over their limit
  too_many_requests,  // 429: a browser with too many sign-ins pending
  provider_error,     // 502: provider answered badly or is unreachable
  token_rejected,     // 502: an API call's 401: the provider refused the user's access token
                      //      (callers that can refresh the token branch on it)
  provider_timeout,   // 504: provider too slow
  store_unavailable,  // 503: Redis unreachable
  config,             // a bad config file or flag (startup only)
  internal,           // 500: a bug or an impossible state
};

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string reason; // safe to show and log: never a secret, token, code or cookie
  // A JSON answer's "error" where the kind's name says too little (oauth-api's
  // "bad_path", "csrf"); empty: error_kind_name(kind).
  std::string code = {};
};

inline Error make_error(ErrorKind kind, std::string reason, std::string code = {}) {
  return Error{kind, std::move(reason), std::move(code)};
}

// HTTP status for an error kind; the only such mapping in the project.
int http_status(ErrorKind kind);
// Short title for pages and logs, e.g. "Bad Request".
const char* status_text(int status);
const char* error_kind_name(ErrorKind kind);

// Result<T>: a value or an Error. Result<void> carries only success or an Error.
template <class T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

private:
  std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}
  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *e_; }

private:
  std::optional<Error> e_;
};

} // namespace oauthfcgi
