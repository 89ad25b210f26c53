// oauth-api's rules as functions of plain values (api_relay.hpp).
#include "api_relay.hpp"

#include "text.hpp"
#include "url.hpp"

namespace oauthfcgi {
namespace {

Error bad_path(std::string why) {
  return make_error(ErrorKind::bad_request, "the API path " + why, "bad_path");
}

int hex_value(char c) {
  if (is_ascii_digit(c)) return c - '0';
  char l = ascii_tolower(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

// Bytes no path segment may hold, raw or percent-encoded: controls, space, DEL.
bool control_or_space(unsigned char c) {
  return c <= 0x20 || c == 0x7f;
}

bool is_method(std::string_view m) {
  if (m.empty() || m.size() > 16) return false;
  for (char c : m)
    if (c < 'A' || c > 'Z') return false;
  return true;
}

// "a/b/c" -> {"a", "b", "c"}; empty segments kept ("a//b" has three).
std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

// "x-ratelimit-remaining" -> "X-RateLimit-Remaining": how GitHub and GitLab spell them.
std::string ratelimit_name(std::string_view lower) {
  std::string out = "X-RateLimit";
  bool upper = false;
  for (char c : lower.substr(11)) {
    out += upper ? ascii_toupper(c) : c;
    upper = c == '-';
  }
  return out;
}

} // namespace

Result<ApiRule> parse_api_rule(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || !is_method(text.substr(0, colon)))
    return make_error(ErrorKind::config, "write it as METHOD:/path, e.g. GET:/user/repos");
  ApiRule rule;
  rule.method = std::string(text.substr(0, colon));
  rule.text = std::string(text);
  std::string_view pattern = text.substr(colon + 1);
  if (pattern.size() < 2 || pattern[0] != '/')
    return make_error(ErrorKind::config, "the path must start with / and name something: GET:/user");
  for (std::string_view seg : split_segments(pattern.substr(1))) {
    if (seg.empty() || seg == "." || seg == "..")
      return make_error(ErrorKind::config, "a path segment is empty, . or ..");
    if (seg.find('*') != std::string_view::npos && seg != "*" && seg != "**")
      return make_error(ErrorKind::config, "* stands alone in a segment: /repos/*/*/issues");
    for (unsigned char c : seg)
      if (control_or_space(c) || c == '\\' || c == '%' || c == '?' || c == '#')
        return make_error(ErrorKind::config, "a path segment holds %, ?, #, \\ or a space");
    rule.segments.emplace_back(seg);
  }
  for (size_t i = 0; i + 1 < rule.segments.size(); ++i)
    if (rule.segments[i] == "**") return make_error(ErrorKind::config, "** may only be the last segment");
  return rule;
}

Result<ApiPath> parse_api_path(std::string_view raw) {
  if (raw.empty()) return bad_path("is empty");
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (control_or_space(c)) return bad_path("holds a control character or a space");
    if (c == '\\') return bad_path("holds a backslash");
    if (c != '%') continue;
    int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
    int lo = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
    if (hi < 0 || lo < 0) return bad_path("holds a % that is not an escape");
    unsigned char d = static_cast<unsigned char>(hi * 16 + lo);
    if (d == '/' || d == '\\' || d == '.' || d == 0) return bad_path("holds an encoded /, \\, . or NUL");
    if (control_or_space(d)) return bad_path("holds an encoded control character or space");
  }
  ApiPath path;
  path.raw = std::string(raw);
  for (std::string_view seg : split_segments(raw)) {
    if (seg.empty()) return bad_path("has an empty segment (//, or / at an end)");
    if (seg == "." || seg == "..") return bad_path("has a . or .. segment");
    path.segments.push_back(url_decode(seg, false));
  }
  return path;
}

namespace {

bool pattern_matches(const std::vector<std::string>& pattern, const std::vector<std::string>& segments) {
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "**") return segments.size() > i; // one or more
    if (i >= segments.size() || (pattern[i] != "*" && pattern[i] != segments[i])) return false;
  }
  return segments.size() == pattern.size();
}

} // namespace

bool api_allowed(const std::vector<ApiRule>& rules, std::string_view method,
                 const std::vector<std::string>& segments) {
  for (const ApiRule& rule : rules)
    if (rule.method == method && pattern_matches(rule.segments, segments)) return true;
  return false;
}

Headers api_forwarded_headers(const Request& request) {
  static const char* const kForwarded[] = {"Accept",        "Accept-Language",   "Content-Type",
                                           "If-None-Match", "If-Modified-Since", "If-Match"};
  Headers out;
  for (const char* name : kForwarded)
    // nginx passes CONTENT_TYPE empty when the request has none.
    if (auto value = request.header(name); value && !value->empty())
      out.emplace_back(name, std::string(*value));
  return out;
}

std::string rewrite_link(std::string_view link, std::string_view api_url, std::string_view relay_base) {
  std::string out;
  size_t i = 0;
  while (i < link.size()) {
    size_t open = link.find('<', i);
    if (open == std::string_view::npos) break;
    size_t close = link.find('>', open);
    if (close == std::string_view::npos) break;
    std::string_view url = link.substr(open + 1, close - open - 1);
    // The entry's parameters run to the next ',' outside a quoted string.
    size_t end = close + 1;
    bool quoted = false;
    for (; end < link.size(); ++end) {
      if (link[end] == '"') quoted = !quoted;
      if (link[end] == ',' && !quoted) break;
    }
    std::string_view params = link.substr(close + 1, end - close - 1);
    std::string_view rest = url.substr(std::min(url.size(), api_url.size()));
    bool under = starts_with(url, api_url) && (rest.empty() || rest[0] == '/' || rest[0] == '?') &&
                 url_under_prefix(url, api_url);
    // Parameters holding a '<' could pass a URL of their own on to the browser.
    if (under && params.find_first_of("<>") == std::string_view::npos) {
      if (!out.empty()) out += ", ";
      out += "<" + std::string(relay_base) + std::string(rest) + ">" + std::string(ascii_trim(params));
    }
    i = end + 1;
  }
  return out;
}

Headers api_answer_headers(const HttpResponse& response, std::string_view api_url,
                           std::string_view relay_base) {
  static const std::pair<const char*, const char*> kAnswered[] = {{"content-type", "Content-Type"},
                                                                  {"etag", "ETag"},
                                                                  {"last-modified", "Last-Modified"},
                                                                  {"retry-after", "Retry-After"}};
  Headers out;
  for (const auto& [name, value] : response.headers) {
    if (name == "link") {
      std::string link = rewrite_link(value, api_url, relay_base);
      if (!link.empty()) out.emplace_back("Link", std::move(link));
      continue;
    }
    if (starts_with(name, "x-ratelimit-") && name.size() > 12) {
      out.emplace_back(ratelimit_name(name), value);
      continue;
    }
    for (const auto& [lower, spelled] : kAnswered)
      if (name == lower) out.emplace_back(spelled, value);
  }
  return out;
}

} // namespace oauthfcgi
