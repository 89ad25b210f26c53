// Cookies, both ways: the Cookie header a browser sends, parsed; the Set-Cookie value
// we send, serialised; the characters each may hold; our two cookies' names and
// attributes; and the shape of the random values they carry.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"

namespace oauthfcgi {

struct Cookie {
  std::string name, value;
  std::optional<long> max_age; // nullopt = session cookie; 0 = expire now
  bool secure = false;
  bool http_only = true;
  std::string same_site = "Lax";
  std::string path = "/";
};

// RFC 6265 cookie-octet: no controls, whitespace, DQUOTE, comma, semicolon or backslash.
// What a cookie value we send keeps (so it cannot add "; Domain=evil") and what one we
// read must consist of.
bool is_cookie_octet(unsigned char c);
// RFC 7230 token characters: what a cookie name we send keeps.
bool is_cookie_name_char(unsigned char c);

// Cookie header "a=1; b=2" -> value of `name`; nullopt when missing, duplicated or
// malformed (no '=', or a value RFC 6265 does not allow). One pair of surrounding
// quotes is removed; nothing is decoded.
std::optional<std::string> parse_cookie(std::string_view cookie_header, std::string_view name);

// The Set-Cookie header's value: "name=value; Path=/; Max-Age=60; HttpOnly; Secure;
// SameSite=Lax". Characters a part may not hold are dropped, so no part can add an
// attribute or a header.
std::string set_cookie_value(const Cookie& cookie);

// [session] cookie_name (config_checks.cpp has put __Host- in front when https) and
// "<cookie_name>_bind".
std::string session_cookie_name(const Config& config);
std::string binding_cookie_name(const Config& config);
// A cookie with the attributes of docs/routes.md (HttpOnly, SameSite=Lax, Path=/, Secure when https).
Cookie make_cookie(const Config& config, std::string name, std::string value, std::optional<long> max_age);
// Our random values are 43 base64url chars; anything else in a cookie is treated as absent.
bool is_token_shaped(std::string_view value);

} // namespace oauthfcgi
