// Which return_to values are local paths we may redirect to (return_to.hpp).
#include "return_to.hpp"

#include <cstdio>

#include "url.hpp"

namespace oauthfcgi {
namespace {

constexpr size_t kMaxReturnTo = 2048;
// The path is stored with each pending login (600 s in Redis, for anyone who asks):
// a longer one, once encoded, is not worth the room (see safe_return_to).
constexpr size_t kMaxStoredReturnTo = 512;

bool looks_local(std::string_view s) {
  if (s.size() < 1 || s[0] != '/') return false;
  if (s.size() >= 2 && (s[1] == '/' || s[1] == '\\')) return false;
  for (unsigned char c : s) {
    // Browsers treat '\' as '/', and strip tabs and newlines before resolving a URL.
    if (c < 0x20 || c == 0x7f || c == '\\') return false;
  }
  return true;
}

bool url_safe(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
  case '-':
  case '.':
  case '_':
  case '~':
  case '/':
  case '?':
  case '#':
  case '[':
  case ']':
  case '@':
  case '!':
  case '$':
  case '&':
  case '\'':
  case '(':
  case ')':
  case '*':
  case '+':
  case ',':
  case ';':
  case '=':
  case '%':
  case ':': return true;
  default: return false;
  }
}

} // namespace

std::optional<std::string> safe_return_to(std::string_view candidate) {
  if (candidate.empty() || candidate.size() > kMaxReturnTo) return std::nullopt;
  // Decode until nothing changes (bounded): "/%2f%2fevil" and "/%252f%252fevil" both fail.
  std::string current(candidate);
  for (int round = 0; round < 4; round++) {
    if (!looks_local(current)) return std::nullopt;
    std::string next = url_decode(current, false);
    if (next == current) break;
    if (round == 3) return std::nullopt; // still decoding after 4 rounds: not a normal path
    current = std::move(next);
  }
  std::string out;
  out.reserve(candidate.size());
  for (unsigned char c : candidate) {
    if (url_safe(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
    if (out.size() > kMaxStoredReturnTo) return std::nullopt;
  }
  return out;
}

} // namespace oauthfcgi
