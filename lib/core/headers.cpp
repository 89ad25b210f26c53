// The lookup of headers.hpp.
#include "headers.hpp"

#include "text.hpp"

namespace oauthfcgi {

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (ascii_iequals(n, name)) return &v;
  return nullptr;
}

} // namespace oauthfcgi
