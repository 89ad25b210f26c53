// What a handler answers. serialize() writes the CGI/FastCGI form with the
// security headers every answer carries (Cache-Control: no-store,
// X-Content-Type-Options: nosniff, X-Frame-Options: DENY).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cookie.hpp"
#include "error.hpp"
#include "headers.hpp"
#include "text.hpp" // json_escape

namespace oauthfcgi {

// How a program shows errors: browsers get a small HTML page, /profile JSON,
// /check only a status and headers.
enum class ErrorStyle { html, json, status_only };

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Fields for this request's log line, never sent: the serve loop appends them to its
  // one "request" line (e.g. provider=github). Keys naming a secret are redacted by Log.
  std::vector<std::pair<std::string, std::string>> log_fields;

  // Adds (or replaces) a log field: r.annotate("provider", provider.name).
  Response& annotate(std::string_view key, std::string_view value);

  // Adds a header; CR, LF and NUL in name or value are dropped, never sent.
  Response& add_header(std::string_view name, std::string_view value);
  // A Set-Cookie header with set_cookie_value(cookie).
  Response& set_cookie(const Cookie& cookie);
  const std::string* header(std::string_view name) const;
  // "Status: 302 Found\r\n" + headers + security headers + "\r\n" + body.
  std::string serialize() const;

  static Response redirect(int status, std::string_view location);
  static Response json(int status, std::string body);
  // A short HTML page: title, message and links, all escaped here.
  struct Link {
    std::string href, text;
  };
  static Response html_page(int status, std::string_view title, std::string_view message,
                            const std::vector<Link>& links);
  // The same with at most one link (none when link_href is empty).
  static Response html_page(int status, std::string_view title, std::string_view message,
                            std::string_view link_href = {}, std::string_view link_text = {});
  static Response empty(int status);
};

// What an error answer may name besides the error: the provider the request was
// calling (its display name), and the request's id, under which the log has the reason.
struct ErrorNotes {
  std::string_view provider;
  std::string_view request_id;
};

// What a stranger may read about an error. A 4xx is about the request: its reason says
// what to change. A 5xx is about us or the provider, and its reason may name hosts,
// ports or a library's words: it gets a general sentence instead, naming the provider
// (notes.provider) where the provider is the cause; the reason goes to the log only.
std::string public_message(const Error& error, std::string_view provider = {});

// The one place an Error becomes an answer: status from http_status(), body per style
// with public_message() and, for a 5xx, the request id. retry_href, when given, is the
// "start again" link on HTML pages.
Response error_response(const Error& error, ErrorStyle style, std::string_view retry_href = {},
                        const ErrorNotes& notes = {});

std::string html_escape(std::string_view text);

} // namespace oauthfcgi
