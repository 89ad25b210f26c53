// The cookies of cookie.hpp: parsing, serialising, names, attributes and value shape.
#include "cookie.hpp"

#include "text.hpp"

#include <algorithm>

namespace oauthfcgi {

namespace {

// A cookie value as RFC 6265 allows it, with one pair of surrounding quotes removed.
std::optional<std::string> cookie_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  for (char c : v)
    if (!is_cookie_octet(static_cast<unsigned char>(c))) return std::nullopt;
  return std::string(v);
}

template <class Pred> std::string keep_only(std::string_view s, Pred keep) {
  std::string out;
  for (char c : s)
    if (keep(static_cast<unsigned char>(c))) out += c;
  return out;
}

} // namespace

bool is_cookie_octet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) || (c >= 0x3C && c <= 0x5B) ||
         (c >= 0x5D && c <= 0x7E);
}

bool is_cookie_name_char(unsigned char c) {
  if (c <= 0x20 || c >= 0x7F) return false;
  for (char s : std::string_view("()<>@,;:\\\"/[]?={}"))
    if (c == static_cast<unsigned char>(s)) return false;
  return true;
}

std::optional<std::string> parse_cookie(std::string_view header, std::string_view name) {
  if (name.empty()) return std::nullopt;
  std::optional<std::string> found;
  bool seen = false;
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = ascii_trim(header.substr(0, semi), " \t");
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    size_t eq = pair.find('=');
    std::string_view n = ascii_trim(pair.substr(0, eq), " \t");
    if (n != name) continue;
    // Sent twice (e.g. one set for a parent domain by another site): we cannot tell
    // which is ours, so neither counts.
    if (seen) return std::nullopt;
    seen = true;
    if (eq != std::string_view::npos) found = cookie_value(ascii_trim(pair.substr(eq + 1), " \t"));
  }
  return found;
}

std::string set_cookie_value(const Cookie& c) {
  std::string v = keep_only(c.name, is_cookie_name_char) + "=" + keep_only(c.value, is_cookie_octet);
  std::string path = keep_only(c.path, [](unsigned char ch) { return ch >= 0x20 && ch < 0x7F && ch != ';'; });
  if (!path.empty()) v += "; Path=" + path;
  if (c.max_age) {
    v += "; Max-Age=" + std::to_string(*c.max_age < 0 ? 0 : *c.max_age);
    // Browsers that predate Max-Age only drop a cookie whose Expires is past.
    if (*c.max_age <= 0) v += "; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
  }
  if (c.http_only) v += "; HttpOnly";
  if (c.secure) v += "; Secure";
  std::string same_site =
      keep_only(c.same_site, [](unsigned char ch) { return is_ascii_alpha(static_cast<char>(ch)); });
  if (!same_site.empty()) v += "; SameSite=" + same_site;
  return v;
}

std::string session_cookie_name(const Config& config) {
  return config.session.cookie_name;
}
std::string binding_cookie_name(const Config& config) {
  return config.session.cookie_name + "_bind";
}

Cookie make_cookie(const Config& config, std::string name, std::string value, std::optional<long> max_age) {
  Cookie c;
  c.name = std::move(name);
  c.value = std::move(value);
  c.max_age = max_age;
  c.secure = config.server.public_url_https;
  c.http_only = true;
  c.same_site = "Lax";
  c.path = "/";
  return c;
}

bool is_token_shaped(std::string_view value) {
  return value.size() == 43 && std::all_of(value.begin(), value.end(),
                                           [](char c) { return is_ascii_alnum(c) || c == '-' || c == '_'; });
}

} // namespace oauthfcgi
