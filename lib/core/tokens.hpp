// What a provider's token endpoint gave us, kept (encrypted) with the session, and
// what of it the signed-in user may see: expiry, validity and scopes, never a token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <cjson/cJSON.h>

namespace oauthfcgi {

struct TokenSet {
  std::string access_token, token_type, refresh_token, id_token;
  std::string scope;           // granted scopes, space-separated (GitHub's commas normalised)
  long expires_at = 0;         // unix seconds; 0 = not said
  long refresh_expires_at = 0; // unix seconds; 0 = not said
  // The user the provider says the token belongs to (Facebook debug_token's user_id,
  // an ID token's sub). When set, the user document must have this id. Not stored.
  std::string subject;
};

// "a,b c" or "a b" -> {"a","b","c"}: GitHub joins scopes with commas, OAuth2 with spaces.
std::vector<std::string> split_scopes(std::string_view text);
std::string join_scopes(const std::vector<std::string>& scopes);

// Adds "token": {"expires_at": n|null, "valid": bool, "scopes": [...]} to a JSON object.
// valid: not past expires_at at `now` (the provider accepted the token at sign-in).
void token_info_to(cJSON* object, const TokenSet& tokens, long now);

} // namespace oauthfcgi
