// Error kinds to HTTP status and their names: the one place errors become statuses (error.hpp).
#include "error.hpp"

namespace oauthfcgi {

int http_status(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::bad_request: return 400;
  case ErrorKind::unauthenticated: return 401;
  case ErrorKind::forbidden: return 403;
  case ErrorKind::not_found: return 404;
  case ErrorKind::method_not_allowed: return 405;
  case ErrorKind::body_too_large: return 413;
  case ErrorKind::uri_too_long: return 414;
  case ErrorKind::headers_too_large: return 431;
  case ErrorKind::too_many_requests: return 429;
  case ErrorKind::provider_error:
  case ErrorKind::token_rejected: return 502;
  case ErrorKind::provider_timeout: return 504;
  case ErrorKind::store_unavailable: return 503;
  case ErrorKind::config:
  case ErrorKind::internal: return 500;
  }
  return 500;
}

const char* status_text(int status) {
  switch (status) {
  case 200: return "OK";
  case 204: return "No Content";
  case 302: return "Found";
  case 303: return "See Other";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "Unknown";
  }
}

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::bad_request: return "bad_request";
  case ErrorKind::unauthenticated: return "unauthenticated";
  case ErrorKind::forbidden: return "forbidden";
  case ErrorKind::not_found: return "not_found";
  case ErrorKind::method_not_allowed: return "method_not_allowed";
  case ErrorKind::body_too_large: return "body_too_large";
  case ErrorKind::uri_too_long: return "uri_too_long";
  case ErrorKind::headers_too_large: return "headers_too_large";
  case ErrorKind::too_many_requests: return "too_many_requests";
  case ErrorKind::provider_error: return "provider_error";
  case ErrorKind::token_rejected: return "token_rejected";
  case ErrorKind::provider_timeout: return "provider_timeout";
  case ErrorKind::store_unavailable: return "store_unavailable";
  case ErrorKind::config: return "config";
  case ErrorKind::internal: return "internal";
  }
  return "internal";
}

} // namespace oauthfcgi
