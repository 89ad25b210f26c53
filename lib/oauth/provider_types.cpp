// The table of provider types and the questions asked of it. Adding a type: its
// ProviderType value, its file provider_<name>.cpp defining its row, and a row here.
#include "provider_types.hpp"

#include <algorithm>

namespace oauthfcgi {

// Each defined in its type's file.
ProviderTypeInfo github_type();
ProviderTypeInfo facebook_type();
ProviderTypeInfo google_type();
ProviderTypeInfo gitlab_type();
ProviderTypeInfo oauth2_type();
ProviderTypeInfo oidc_type();

const std::vector<ProviderTypeInfo>& provider_types() {
  static const std::vector<ProviderTypeInfo> table = {
      github_type(), facebook_type(), google_type(), gitlab_type(), oauth2_type(), oidc_type(),
  };
  return table;
}

const ProviderTypeInfo& provider_type(ProviderType type) {
  for (const ProviderTypeInfo& row : provider_types())
    if (row.type == type) return row;
  // Unreachable while every ProviderType has a row (test_provider_types); plain OAuth2 else.
  return *find_provider_type("oauth2");
}

const ProviderTypeInfo* find_provider_type(std::string_view name) {
  for (const ProviderTypeInfo& row : provider_types())
    if (name == row.name) return &row;
  return nullptr;
}

const char* provider_type_name(ProviderType t) {
  return provider_type(t).name;
}

namespace {

std::string join(const std::vector<std::string>& words, std::string_view last_separator) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? last_separator : ", ";
    out += words[i];
  }
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

} // namespace

std::string provider_type_names(std::string_view last_separator) {
  std::vector<std::string> names;
  for (const ProviderTypeInfo& row : provider_types())
    names.emplace_back(row.name);
  return join(names, last_separator);
}

bool takes_config_key(const ProviderTypeInfo& type, std::string_view key) {
  return contains(type.config.own_keys, key) || contains(type.config.shared_keys, key);
}

std::vector<std::string> type_only_keys() {
  std::vector<std::string> keys;
  for (const ProviderTypeInfo& row : provider_types())
    keys.insert(keys.end(), row.config.own_keys.begin(), row.config.own_keys.end());
  return keys;
}

std::string types_taking(std::string_view key) {
  std::vector<std::string> owners, sharers;
  for (const ProviderTypeInfo& row : provider_types()) {
    if (contains(row.config.own_keys, key)) owners.emplace_back(row.name);
    if (contains(row.config.shared_keys, key)) sharers.emplace_back(row.name);
  }
  owners.insert(owners.end(), sharers.begin(), sharers.end());
  return (owners.size() == 1 ? "type " : "types ") + join(owners, " and ");
}

} // namespace oauthfcgi
