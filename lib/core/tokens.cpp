// What a token endpoint gave us, and what of it the signed-in user may see (tokens.hpp).
#include "tokens.hpp"

#include "json.hpp"

namespace oauthfcgi {

std::vector<std::string> split_scopes(std::string_view text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find_first_of(", ", at);
    if (end == std::string_view::npos) end = text.size();
    if (end > at) out.emplace_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out.push_back(' ');
    out += s;
  }
  return out;
}

void token_info_to(cJSON* object, const TokenSet& t, long now) {
  Json info = json_object();
  if (t.expires_at > 0)
    json_set_number(info.get(), "expires_at", static_cast<double>(t.expires_at));
  else
    cJSON_AddNullToObject(info.get(), "expires_at");
  cJSON_AddBoolToObject(info.get(), "valid", t.expires_at == 0 || now < t.expires_at);
  cJSON* scopes = cJSON_AddArrayToObject(info.get(), "scopes");
  for (const auto& s : split_scopes(t.scope))
    cJSON_AddItemToArray(scopes, cJSON_CreateString(s.c_str()));
  cJSON_AddItemToObject(object, "token", info.release());
}

} // namespace oauthfcgi
