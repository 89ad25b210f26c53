// Shared by the libFuzzer targets: a config like a real deployment's (every provider
// type, loopback endpoints) and a consumer for the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "config_load.hpp"

namespace fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits the input at '\n' into at most n parts (the last keeps the rest).
inline std::vector<std::string> parts(std::string_view text, size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    out.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  out.emplace_back(text);
  out.resize(n);
  return out;
}

inline const oauthfcgi::Config& config() {
  static const oauthfcgi::Config c = [] {
    // The config wants its secret in a file: one in a fresh temporary folder.
    char dir[] = "/tmp/oauth-fcgi-fuzz-XXXXXX";
    if (!mkdtemp(dir)) abort();
    std::string secret_path = std::string(dir) + "/secret";
    FILE* f = fopen(secret_path.c_str(), "w");
    if (!f) abort();
    fputs("0123456789abcdef0123456789abcdef-fuzz", f);
    fclose(f);
    std::string text = "[server]\npublic_url = https://www.example.com\nsecret_file = " + secret_path +
                       "\n"
                       "[provider github]\ntype = github\nclient_id = gh\nclient_secret = ghs\n"
                       "api_allow = GET:/user/** POST:/repos/*/*/issues\n"
                       "[provider facebook]\ntype = facebook\nclient_id = 123\nclient_secret = fbs\n"
                       "[provider dev]\ntype = oauth2\nclient_id = dev\nclient_secret = devs\n"
                       "authorize_url = http://127.0.0.1:9/a\ntoken_url = http://127.0.0.1:9/t\n"
                       "userinfo_url = http://127.0.0.1:9/u\n"
                       "[provider sso]\ntype = oidc\nissuer = http://127.0.0.1:9/oidc\nclient_id = sso\n"
                       "client_secret = ssos\n";
    auto load = oauthfcgi::parse_config(text, "fuzz.conf", dir);
    if (!load.ok()) abort();
    return load.config;
  }();
  return c;
}

} // namespace fuzz
