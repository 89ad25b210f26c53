// Small ASCII text helpers: character classes, case, trimming, decimal numbers, excerpts, redaction and JSON
// string escaping. HTTP header names, schemes and config words are ASCII, so nothing here depends on the
// locale (std::tolower and std::isalnum do).
#pragma once

#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace oauthfcgi {

// Space, \t, \n, \v, \f and \r.
constexpr std::string_view kAsciiSpace = " \t\n\v\f\r";

bool is_ascii_space(char c);
bool is_ascii_digit(char c);
bool is_ascii_alpha(char c);
bool is_ascii_alnum(char c);
char ascii_tolower(char c);
char ascii_toupper(char c);
std::string ascii_lowercase(std::string_view s);
// Equal but for the case of ASCII letters.
bool ascii_iequals(std::string_view a, std::string_view b);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// s without the leading and trailing characters that are in `chars`.
std::string_view ascii_trim(std::string_view s, std::string_view chars = kAsciiSpace);

// The whole of s as a decimal number: an optional '-' then digits. No '+',
// spaces or trailing junk; nullopt as well when it does not fit in a long.
std::optional<long> parse_long(std::string_view s);
// The whole of s as digits only (no sign), at most `max`; nullopt otherwise.
std::optional<unsigned long> parse_uint(std::string_view s,
                                        unsigned long max = std::numeric_limits<unsigned long>::max());

// Text a provider chose, for a page or a log line: at most max bytes, anything but
// printable ASCII shown as '?'. (Pages and logs escape it again on output.)
std::string printable_excerpt(std::string_view s, size_t max);
// Text with every occurrence of each value (a code, token or secret we sent, which a
// provider may echo back in an error) replaced by "[redacted]". Empty values are skipped.
std::string redact_values(std::string text, std::initializer_list<std::string_view> values);
// JSON string escaping (quotes, backslash, control characters), without the quotes.
std::string json_escape(std::string_view text);

} // namespace oauthfcgi
