// The Response of response.hpp: header values kept free of line breaks, the security
// headers every answer carries, small HTML pages, and the one map from Error to answer.
#include "response.hpp"
#include "text.hpp"

#include <cstdio>

namespace oauthfcgi {

namespace {

// What a header line must never carry: a CR or LF would start a new header (response
// splitting), a NUL truncates it in C code downstream.
std::string without_line_breaks(std::string_view s) {
  constexpr std::string_view breaks("\r\n\0", 3);
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    size_t at = s.find_first_of(breaks);
    out.append(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

} // namespace

Response& Response::add_header(std::string_view name, std::string_view value) {
  headers.emplace_back(without_line_breaks(name), without_line_breaks(value));
  return *this;
}

Response& Response::set_cookie(const Cookie& c) {
  return add_header("Set-Cookie", set_cookie_value(c));
}

Response& Response::annotate(std::string_view key, std::string_view value) {
  for (auto& field : log_fields) {
    if (field.first == key) {
      field.second = std::string(value);
      return *this;
    }
  }
  log_fields.emplace_back(std::string(key), std::string(value));
  return *this;
}

const std::string* Response::header(std::string_view name) const {
  return find_header(headers, name);
}

std::string Response::serialize() const {
  size_t size = 128 + body.size();
  for (const auto& [n, v] : headers)
    size += n.size() + v.size() + 4;
  std::string out;
  out.reserve(size);
  out.append("Status: ")
      .append(std::to_string(status))
      .append(" ")
      .append(status_text(status))
      .append("\r\n");
  for (const auto& [n, v] : headers)
    append_header(out, n, v);
  static const Header security[] = {
      {"Cache-Control", "no-store"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
  };
  for (const auto& [n, v] : security)
    if (!header(n)) append_header(out, n, v);
  if (!body.empty() && !header("Content-Type"))
    append_header(out, "Content-Type", "text/plain; charset=utf-8");
  out += "\r\n";
  out += body;
  return out;
}

Response Response::redirect(int status, std::string_view location) {
  Response r = empty(status);
  r.add_header("Location", location);
  return r;
}

Response Response::json(int status, std::string body) {
  Response r = empty(status);
  r.add_header("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::html_page(int status, std::string_view title, std::string_view message,
                             const std::vector<Link>& links) {
  Response r = empty(status);
  r.add_header("Content-Type", "text/html; charset=utf-8");
  // The page needs nothing but its inline style: no script, image, frame or form.
  r.add_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  std::string t = html_escape(title);
  r.body = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
           t +
           "</title>\n<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;"
           "padding:0 1em;color:#222}a{color:#0550ae}</style>\n</head>\n<body>\n<h1>" +
           t + "</h1>\n<p>" + html_escape(message) + "</p>\n";
  for (const Link& link : links)
    r.body += "<p><a href=\"" + html_escape(link.href) + "\">" +
              html_escape(link.text.empty() ? std::string_view("Continue") : std::string_view(link.text)) +
              "</a></p>\n";
  r.body += "</body>\n</html>\n";
  return r;
}

Response Response::html_page(int status, std::string_view title, std::string_view message,
                             std::string_view link_href, std::string_view link_text) {
  std::vector<Link> links;
  if (!link_href.empty()) links.push_back({std::string(link_href), std::string(link_text)});
  return html_page(status, title, message, links);
}

Response Response::empty(int status) {
  Response r;
  r.status = status;
  return r;
}

std::string public_message(const Error& error, std::string_view provider) {
  int status = http_status(error.kind);
  if (status < 500) return error.reason;
  std::string who = provider.empty() ? "The sign-in provider" : std::string(provider);
  switch (status) {
  case 502: return who + " answered with something we could not use.";
  case 503: return "Sign-in is unavailable for a moment.";
  case 504: return who + " did not answer in time.";
  default: return "Something went wrong on our side.";
  }
}

Response error_response(const Error& error, ErrorStyle style, std::string_view retry_href,
                        const ErrorNotes& notes) {
  int status = http_status(error.kind);
  std::string message = public_message(error, notes.provider);
  bool with_id = status >= 500 && !notes.request_id.empty();
  switch (style) {
  case ErrorStyle::html:
    if (with_id)
      message +=
          " Try again in a moment; if it keeps happening, give the site's operators this request id: " +
          std::string(notes.request_id) + ".";
    return Response::html_page(status, status_text(status), message, retry_href, "Start again");
  case ErrorStyle::json: {
    // A 401 says only that: the reason would tell a prober why its cookie failed.
    if (status == 401) return Response::json(status, "{\"error\":\"unauthenticated\"}");
    std::string code = error.code.empty() ? error_kind_name(error.kind) : json_escape(error.code);
    std::string body = "{\"error\":\"" + code + "\",\"message\":\"" + json_escape(message) + "\"";
    if (with_id) body += ",\"request_id\":\"" + json_escape(notes.request_id) + "\"";
    return Response::json(status, body + "}");
  }
  case ErrorStyle::status_only: break;
  }
  return Response::empty(status);
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

} // namespace oauthfcgi
