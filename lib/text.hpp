// Small ASCII string helpers shared across lib/ (HTTP header names, schemes and
// config words are ASCII; locale-dependent tolower is not wanted).
#pragma once

#include <string>
#include <string_view>

namespace oauthfcgi {

std::string ascii_lowercase(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// JSON string escaping (quotes, backslash, control characters), without the quotes.
std::string json_escape(std::string_view text);

} // namespace oauthfcgi
