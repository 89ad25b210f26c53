// The one return_to validator. Only a local path may come back: one leading '/',
// not "//" or "/\", no scheme, no control characters or backslashes — checked on
// the value and again after each round of percent-decoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace oauthfcgi {

// The path, made safe to put in a Location header (bytes outside the URL alphabet
// percent-encoded), or nullopt when it is not a plain local path, or is longer than
// 512 bytes so encoded (it is stored with each pending login; callers fall back to
// after_login).
std::optional<std::string> safe_return_to(std::string_view candidate);

} // namespace oauthfcgi
