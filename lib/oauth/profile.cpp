#include "profile.hpp"

#include <utility>

namespace oauthfcgi {
namespace {

// First of several claim names that holds a string.
std::optional<std::string> first_string(const cJSON* o, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto v = json_string(o, k); v && !v->empty()) return v;
  return std::nullopt;
}

} // namespace

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

Result<Profile> normalize_profile(const Provider& provider, const cJSON* user) {
  Profile p;
  p.provider = provider.name;
  std::optional<std::string> id;
  if (provider.type == ProviderType::github) {
    id = json_id(user, "id");
    p.login = first_string(user, {"login"});
    p.name = first_string(user, {"name"});
    p.email = first_string(user, {"email"});
    p.avatar_url = first_string(user, {"avatar_url"});
  } else if (provider.type == ProviderType::facebook) {
    // Graph /me?fields=id,name,email,picture: no login name since Graph v2.0.
    id = json_id(user, "id");
    p.name = first_string(user, {"name"});
    p.email = first_string(user, {"email"});
    const cJSON* picture = cJSON_GetObjectItemCaseSensitive(user, "picture");
    if (const cJSON* data = cJSON_GetObjectItemCaseSensitive(picture, "data"); cJSON_IsObject(data))
      p.avatar_url = first_string(data, {"url"});
  } else {
    id = json_id(user, "sub");
    if (!id) id = json_id(user, "id");
    p.login = first_string(user, {"preferred_username", "login", "username", "nickname"});
    p.name = first_string(user, {"name"});
    // An address the provider says is unverified is not an identity.
    if (json_bool(user, "email_verified") != std::optional<bool>(false))
      p.email = first_string(user, {"email"});
    p.avatar_url = first_string(user, {"picture", "avatar_url"});
    p.hd = first_string(user, {"hd"});
  }
  if (!id || id->empty())
    return make_error(ErrorKind::provider_error, "the user document from " + provider.name + " has no id");
  p.id = *id;
  return p;
}

std::optional<std::string> primary_verified_email(const cJSON* emails) {
  if (!cJSON_IsArray(emails)) return std::nullopt;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, emails) {
    if (json_bool(item, "primary") == std::optional<bool>(true) &&
        json_bool(item, "verified") == std::optional<bool>(true))
      return json_string(item, "email");
  }
  return std::nullopt;
}

} // namespace oauthfcgi
