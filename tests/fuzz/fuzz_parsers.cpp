// The small parsers of outside text, one input each: query strings, cookie headers,
// return_to, URLs, the config file and our own sealed records' JSON. The first byte
// picks the parser.
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
  switch (data[0] % 6) {
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
  }
  return 0;
}
