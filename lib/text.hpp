// Small ASCII string helpers shared across lib/ (HTTP header names, schemes and
// config words are ASCII; locale-dependent tolower is not wanted).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace oauthfcgi {

std::string ascii_lowercase(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// Text a provider chose, for a page or a log line: at most max bytes, anything but
// printable ASCII shown as '?'. (Pages and logs escape it again on output.)
std::string printable_excerpt(std::string_view s, size_t max);
// Text with every occurrence of each value (a code, token or secret we sent, which a
// provider may echo back in an error) replaced by "[redacted]". Empty values are skipped.
std::string redact_values(std::string text, std::initializer_list<std::string_view> values);
// JSON string escaping (quotes, backslash, control characters), without the quotes.
std::string json_escape(std::string_view text);

} // namespace oauthfcgi
