// HTTP header lists as both directions hold them: name/value pairs in order, a name
// possibly repeated, and the one case-insensitive lookup (HTTP names ignore ASCII case).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oauthfcgi {

using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

// The value of the first header named `name` (ASCII case ignored), or nullptr.
const std::string* find_header(const Headers& headers, std::string_view name);

} // namespace oauthfcgi
