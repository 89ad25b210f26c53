// The signed-in user, normalised across providers, and the tokens that came with it.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"
#include "json.hpp"
#include "provider.hpp"

namespace oauthfcgi {

struct Profile {
  std::string provider;
  std::string id;
  std::optional<std::string> login, name, email, avatar_url;
  std::optional<std::string> hd; // Google Workspace domain (the hd claim); shown only when set
  // X-Auth-User: the login, or the email where the provider has no login, or the id.
  std::string user() const;
};

// {"provider","id","login","name","email","avatar_url"}: strings or null.
std::string profile_json(const Profile& profile);
Result<Profile> profile_from_json(std::string_view text);
void profile_to(cJSON* object, const Profile& profile);
Result<Profile> profile_from(const cJSON* object);

// The provider's user document -> Profile, as its type maps it (GitHub: /user;
// oauth2: userinfo with OIDC or common claim names). Fails when the document has no id.
Result<Profile> normalize_profile(const Provider& provider, const cJSON* user);

// For the types' profile mappings (provider_<name>.cpp):
// the first of several claim names that holds a non-empty string.
std::optional<std::string> first_string(const cJSON* object, std::initializer_list<const char*> keys);
// OIDC standard claims, or the common names plain OAuth2 servers use instead.
void map_oidc_claims(const cJSON* user, Profile& profile);

} // namespace oauthfcgi
