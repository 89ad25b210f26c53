// The [access] rules and a provider's own, applied to a signed-in user (access.hpp).
#include "access.hpp"

#include "provider_types.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

bool contains_nocase(const std::vector<std::string>& list, const std::string& value) {
  std::string v = ascii_lowercase(value);
  for (const auto& item : list)
    if (ascii_lowercase(item) == v) return true;
  return false;
}

// One set of rules: empty = anyone; otherwise any list that matches admits.
bool admits(const AccessRules& rules, const ProviderConfig& provider, const Profile& p,
            const std::vector<std::string>& orgs) {
  if (rules.empty()) return true;
  if (p.email) {
    if (contains_nocase(rules.allowed_emails, *p.email)) return true;
    auto at = p.email->rfind('@');
    if (at != std::string::npos && contains_nocase(rules.allowed_domains, p.email->substr(at + 1)))
      return true;
  }
  for (const auto& user : rules.allowed_users)
    if (user_ref_matches(user, provider.name, p)) return true;
  for (const auto& org : orgs)
    if (contains_nocase(rules.github_orgs, org)) return true;
  return false;
}

constexpr std::string_view kIdMarker = "id:";

} // namespace

AccessDecision check_access(const Config& config, const ProviderConfig& provider, const Profile& profile,
                            const std::vector<std::string>& orgs) {
  if (!admits(config.access, provider, profile, orgs)) return {false, "not admitted by the [access] rules"};
  if (!admits(provider.access, provider, profile, orgs))
    return {false, "not admitted by the rules of [provider " + provider.name + "]"};
  return {};
}

bool needs_github_orgs(const Config& config, const ProviderConfig& provider) {
  return provider_type(provider.type).takes_github_orgs &&
         (!config.access.github_orgs.empty() || !provider.access.github_orgs.empty());
}

Result<UserRef> parse_user_ref(std::string_view entry) {
  UserRef ref;
  std::string_view rest = entry;
  size_t colon = rest.find(':');
  if (colon != std::string_view::npos && !starts_with(rest, kIdMarker)) {
    ref.provider = std::string(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
    if (ref.provider.empty()) return make_error(ErrorKind::config, "the provider before ':' is empty");
  }
  if (starts_with(rest, kIdMarker)) {
    ref.kind = UserRef::Kind::id;
    rest.remove_prefix(kIdMarker.size());
  }
  if (rest.empty()) return make_error(ErrorKind::config, "it names no login or id");
  ref.value = std::string(rest);
  return ref;
}

std::string user_ref_text(const UserRef& ref) {
  return (ref.provider.empty() ? "" : ref.provider + ":") +
         (ref.kind == UserRef::Kind::id ? std::string(kIdMarker) : "") + ref.value;
}

bool user_ref_matches(const UserRef& ref, std::string_view provider, const Profile& profile) {
  if (!ref.provider.empty() && ref.provider != provider) return false;
  if (ref.kind == UserRef::Kind::id) return !profile.id.empty() && ref.value == profile.id;
  return profile.login && ascii_lowercase(*profile.login) == ascii_lowercase(ref.value);
}

} // namespace oauthfcgi
