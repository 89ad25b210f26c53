// The table of provider types: one row per type, each row defined in its type's file
// (provider_<name>.cpp) and listed in provider_types.cpp, the one place that lists them.
// A row says, as data and a few functions, what a type is: its config name and rules,
// its defaults, how its user document maps to a Profile, how it revokes, its quirks.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "json.hpp"
#include "profile.hpp"
#include "provider.hpp"
#include "revoke.hpp"

namespace oauthfcgi {

// What a [provider NAME] section of a type may and must hold beyond the keys every
// type takes; config_checks.cpp applies them.
struct TypeConfigRules {
  // Keys this type brings: another type's section with one is refused, naming this
  // type first ("issuer applies only to types oidc and google").
  std::vector<std::string> own_keys;
  // Keys another type brings that this type takes too (google: issuer).
  std::vector<std::string> shared_keys;
  // The fix to suggest when a section of this type has a key it does not take, where
  // "remove it" would mislead: {key, fix}.
  std::vector<std::pair<std::string, std::string>> misplaced_fixes;
  // Keys a section of this type must have, and the fix the message suggests.
  std::vector<std::string> required_keys;
  std::string required_fix;
  std::string default_base_url; // base_url when the section has none
  // The type knows its API's base (apply_defaults sets Provider::api_url); false: a
  // section with api_allow must set api_url.
  bool has_api_url = true;
};

struct ProviderTypeInfo {
  using ApplyDefaults = void (*)(const ProviderConfig&, Provider&);
  using MapProfile = void (*)(const cJSON* user, Profile&);
  using Revoke = Result<Revocation> (*)(HttpClient&, const Provider&, const TokenSet&, long now);
  // What every type has; the rest defaults to plain OAuth2.
  ProviderTypeInfo(ProviderType type, const char* name, ApplyDefaults apply_defaults, MapProfile map_profile,
                   Revoke revoke)
      : type(type), name(name), apply_defaults(apply_defaults), map_profile(map_profile), revoke(revoke) {}

  ProviderType type;
  const char* name; // type = NAME in the config
  // The type's endpoints, scope and request shape, over what the section set.
  ApplyDefaults apply_defaults;
  // The user document -> Profile: id (left empty when the document has none) and the rest.
  MapProfile map_profile;
  // Revocation at sign-out, no_endpoint where the provider has none (revoke.hpp).
  Revoke revoke;
  const char* display_name = nullptr; // for pages; nullptr: the section's name
  TypeConfigRules config;
  ProviderHooks hooks;
  // github_orgs rules apply: sign-in reads the user's organisations.
  bool takes_github_orgs = false;
};

// Every row, in the order messages list the types.
const std::vector<ProviderTypeInfo>& provider_types();
const ProviderTypeInfo& provider_type(ProviderType type);
// The row whose name is `name`, or nullptr.
const ProviderTypeInfo* find_provider_type(std::string_view name);
// type = NAME of the config for a type ("github").
const char* provider_type_name(ProviderType t);
// The names in table order for messages: "a, b, c" (last_separator ", ") or "a, b or c" (" or ").
std::string provider_type_names(std::string_view last_separator);

bool takes_config_key(const ProviderTypeInfo& type, std::string_view key);
// The keys some types bring (own_keys of every row), in table order.
std::vector<std::string> type_only_keys();
// Who takes a type-only key, for messages: "type gitlab", "types oidc, google and gitlab"
// (the type that brings it first, then the others in table order).
std::string types_taking(std::string_view key);

} // namespace oauthfcgi
