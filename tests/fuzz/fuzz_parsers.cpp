// The small parsers of outside text, one input each: query strings, cookie headers,
// return_to, URLs, the config file, our own sealed records' JSON, allowed_users
// entries, the allow_urls matcher, and oauth-api's paths, api_allow rules and Link
// rewriting. The first byte picks the parser.
#include "access.hpp"
#include "api_relay.hpp"
#include "config_load.hpp"
#include "fuzz_common.hpp"
#include "request.hpp"
#include "return_to.hpp"
#include "sessions.hpp"
#include "url.hpp"

using namespace oauthfcgi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text = fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 10) {
  case 0: {
    Params q = parse_query(text);
    (void)find_param(q, "state");
    (void)build_query(q);
    break;
  }
  case 1:
    (void)parse_cookie(text, "oauth_session");
    (void)parse_cookie(text, "__Host-oauth_session");
    break;
  case 2:
    if (auto safe = safe_return_to(text)) {
      // A safe return_to is a local path: one '/', no scheme, no backslash, no controls.
      if (safe->empty() || (*safe)[0] != '/' ||
          (safe->size() > 1 && ((*safe)[1] == '/' || (*safe)[1] == '\\')))
        __builtin_trap();
      for (unsigned char c : *safe)
        if (c < 0x20 || c == 0x7f || c == '\\') __builtin_trap();
    }
    break;
  case 3:
    (void)parse_url(text);
    (void)append_query(std::string(text), {{"a", "b"}});
    break;
  case 4: (void)parse_config(text, "fuzz.conf", "/nonexistent"); break;
  case 5:
    (void)decode_session(text);
    (void)decode_state(text);
    break;
  case 6:
    if (auto ref = parse_user_ref(text)) {
      // Parsing what it writes gives it back: one text, one user.
      auto again = parse_user_ref(user_ref_text(*ref));
      if (!again || !(*again == *ref) || ref->value.empty()) __builtin_trap();
    }
    break;
  case 7: {
    // "PREFIX URL": a URL under a prefix has the prefix's origin and no encoded dot or slash.
    size_t space = text.find(' ');
    if (space == std::string_view::npos) break;
    std::string_view prefix = text.substr(0, space), url = text.substr(space + 1);
    if (url_under_prefix(url, prefix)) {
      auto a = url_origin(url), b = url_origin(prefix);
      if (!a || !b || *a != *b) __builtin_trap();
    }
    break;
  }
  case 8:
    // A path the relay forwards has no way out of the API base: no dot segment, no
    // empty segment, no backslash, nothing encoded that a server may read as one.
    if (auto path = parse_api_path(text)) {
      for (const std::string& seg : path->segments)
        if (seg.empty() || seg == "." || seg == ".." || seg.find_first_of("/\\") != std::string::npos)
          __builtin_trap();
    }
    if (auto rule = parse_api_rule(text)) (void)api_allowed({*rule}, rule->method, rule->segments);
    break;
  case 9: {
    // Every URL a rewritten Link names is under the relay's base.
    const std::string relay = "https://www.example.com/auth/api/gh";
    std::string link = rewrite_link(text, "https://api.example.com/v1", relay);
    for (size_t at = link.find('<'); at != std::string::npos; at = link.find('<', at + 1)) {
      size_t close = link.find('>', at);
      if (close == std::string::npos) break;
      if (link.compare(at + 1, relay.size(), relay) != 0) __builtin_trap();
      at = close;
    }
    break;
  }
  }
  return 0;
}
