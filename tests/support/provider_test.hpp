// For the tests of provider types (test_provider*.cpp, test_profile, test_revoke):
// sections and providers of a type, what the config reader says of a section, user
// documents, token sets and request headers.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

#include "config_load.hpp"
#include "fake_http.hpp"
#include "json.hpp"
#include "provider.hpp"
#include "text.hpp"
#include "tokens.hpp"

namespace testutil {

// A [provider NAME] section of `type` with a client id and secret. resolve_provider
// keeps a pointer to it: hold it in a variable that outlives the Provider.
inline oauthfcgi::ProviderConfig provider_section(oauthfcgi::ProviderType type, const char* name) {
  oauthfcgi::ProviderConfig c;
  c.name = name;
  c.type = type;
  c.client_id = "id";
  c.client_secret = "secret";
  return c;
}

// A Provider with only a type and a name: what normalize_profile reads.
inline oauthfcgi::Provider provider_of(oauthfcgi::ProviderType type, const char* name) {
  oauthfcgi::Provider p;
  p.type = type;
  p.name = name;
  return p;
}

// A user document; a test's own text, so it must parse.
inline oauthfcgi::Json parse_json(const char* text) {
  auto j = oauthfcgi::json_parse(text);
  EXPECT_TRUE(j.ok()) << text;
  return j.ok() ? std::move(*j) : oauthfcgi::json_object();
}

// "Now" for revocation tests, and tokens live for an hour after it.
constexpr long kNow = 1700000000;
inline oauthfcgi::TokenSet tokens(std::string access = "AT-1", std::string refresh = "RT-1") {
  oauthfcgi::TokenSet t;
  t.access_token = std::move(access);
  t.refresh_token = std::move(refresh);
  t.expires_at = kNow + 3600;
  return t;
}

// What parse_config says of a [provider x] section with a client id and secret and
// `lines`, one "line: message" per problem; not what it says of the file as a whole
// (line 0: it has no [server]). The section's header is line 1, `lines` start at line 4.
inline std::string section_problems(const std::string& lines) {
  auto load =
      oauthfcgi::parse_config("[provider x]\nclient_id = id\nclient_secret = s\n" + lines, "t.conf", ".");
  std::string out;
  for (const auto& p : load.problems)
    if (p.line > 0) out += std::to_string(p.line) + ": " + p.message + "\n";
  return out;
}

// The request header `name` in any case, or nullptr.
inline const std::string* header(const oauthfcgi::HttpRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.headers)
    if (oauthfcgi::ascii_lowercase(n) == oauthfcgi::ascii_lowercase(name)) return &v;
  return nullptr;
}

} // namespace testutil
