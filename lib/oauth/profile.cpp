// The normalised user: its stored JSON form, and the user document of any type mapped
// to it (each type's mapping is in its row, provider_types.hpp).
#include "profile.hpp"

#include <utility>

#include "provider_types.hpp"

namespace oauthfcgi {

std::string Profile::user() const {
  if (login) return *login;
  if (email) return *email;
  return id;
}

void profile_to(cJSON* o, const Profile& p) {
  json_set_string(o, "provider", p.provider);
  json_set_string(o, "id", p.id);
  json_set_optional(o, "login", p.login);
  json_set_optional(o, "name", p.name);
  json_set_optional(o, "email", p.email);
  json_set_optional(o, "avatar_url", p.avatar_url);
  if (p.hd) json_set_string(o, "hd", *p.hd);
}

std::string profile_json(const Profile& p) {
  Json o = json_object();
  profile_to(o.get(), p);
  return json_print(o.get());
}

Result<Profile> profile_from(const cJSON* o) {
  Profile p;
  auto provider = json_string(o, "provider");
  auto id = json_string(o, "id");
  if (!provider || !id) return make_error(ErrorKind::internal, "stored profile lacks provider or id");
  p.provider = std::move(*provider);
  p.id = std::move(*id);
  p.login = json_string(o, "login");
  p.name = json_string(o, "name");
  p.email = json_string(o, "email");
  p.avatar_url = json_string(o, "avatar_url");
  p.hd = json_string(o, "hd");
  return p;
}

Result<Profile> profile_from_json(std::string_view text) {
  auto o = json_parse_object(text);
  if (!o.ok()) return o.error();
  return profile_from(o->get());
}

std::optional<std::string> first_string(const cJSON* o, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto v = json_string(o, k); v && !v->empty()) return v;
  return std::nullopt;
}

void map_oidc_claims(const cJSON* user, Profile& p) {
  auto id = json_id(user, "sub");
  if (!id) id = json_id(user, "id");
  p.id = id.value_or("");
  p.login = first_string(user, {"preferred_username", "login", "username", "nickname"});
  p.name = first_string(user, {"name"});
  p.email = first_string(user, {"email"});
  p.email_verified = json_flag(user, "email_verified");
  p.avatar_url = first_string(user, {"picture", "avatar_url"});
  p.hd = first_string(user, {"hd"});
}

Result<Profile> normalize_profile(const Provider& provider, const cJSON* user) {
  Profile p;
  p.provider = provider.name;
  provider_type(provider.type).map_profile(user, p);
  if (p.id.empty())
    return make_error(ErrorKind::provider_error, "the user document from " + provider.name + " has no id");
  // An address is an identity (access rules, X-Auth-Email, X-Auth-User) only when the
  // provider vouches for it; trust_email (oauth2) vouches for one the server leaves unmarked.
  if (!p.email_verified && provider.config && provider.config->trust_email) p.email_verified = true;
  if (p.email_verified != std::optional<bool>(true)) p.email.reset();
  return p;
}

std::optional<bool> email_verified_by(std::optional<bool> one, std::optional<bool> other) {
  if (one == std::optional<bool>(false) || other == std::optional<bool>(false)) return false;
  if (one || other) return true;
  return std::nullopt;
}

void fill_profile(Profile& fresh, const Profile& earlier) {
  for (auto [mine, theirs] :
       {std::pair{&fresh.login, &earlier.login}, std::pair{&fresh.name, &earlier.name},
        std::pair{&fresh.avatar_url, &earlier.avatar_url}, std::pair{&fresh.hd, &earlier.hd}})
    if (!*mine) *mine = *theirs;
  // Each side's email is there only if that side verified it (normalize_profile).
  fresh.email_verified = email_verified_by(fresh.email_verified, earlier.email_verified);
  if (fresh.email_verified == std::optional<bool>(false))
    fresh.email.reset();
  else if (!fresh.email)
    fresh.email = earlier.email;
}

} // namespace oauthfcgi
