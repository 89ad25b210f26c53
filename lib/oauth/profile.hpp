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
  // What the user document said of `email`: verified, unverified, or nothing. Not stored:
  // normalize_profile keeps an email only when it is verified, so a stored one was.
  std::optional<bool> email_verified;
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
// The email is kept only when verified: the type's mapping says so, or (oauth2 with
// trust_email) the document does not say it is not.
Result<Profile> normalize_profile(const Provider& provider, const cJSON* user);

// Two sources' word on one email: unverified (false) when either says false, verified
// (true) when one says true, else nothing said.
std::optional<bool> email_verified_by(std::optional<bool> one, std::optional<bool> other);
// What `fresh` (userinfo) leaves out, `earlier` (the ID token's claims, or the stored
// profile) said. The email is dropped when either calls it unverified.
void fill_profile(Profile& fresh, const Profile& earlier);

// For the types' profile mappings (provider_<name>.cpp):
// the first of several claim names that holds a non-empty string.
std::optional<std::string> first_string(const cJSON* object, std::initializer_list<const char*> keys);
// OIDC standard claims, or the common names plain OAuth2 servers use instead; the email
// as verified as email_verified says (json_flag).
void map_oidc_claims(const cJSON* user, Profile& profile);

} // namespace oauthfcgi
