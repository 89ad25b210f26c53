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
bool admits(const AccessRules& rules, const Profile& p, const std::vector<std::string>& orgs) {
  if (rules.empty()) return true;
  if (p.email) {
    if (contains_nocase(rules.allowed_emails, *p.email)) return true;
    auto at = p.email->rfind('@');
    if (at != std::string::npos && contains_nocase(rules.allowed_domains, p.email->substr(at + 1)))
      return true;
  }
  if (p.login && contains_nocase(rules.allowed_users, *p.login)) return true;
  for (const auto& user : rules.allowed_users)
    if (user == p.id) return true;
  for (const auto& org : orgs)
    if (contains_nocase(rules.github_orgs, org)) return true;
  return false;
}

} // namespace

AccessDecision check_access(const Config& config, const ProviderConfig& provider, const Profile& profile,
                            const std::vector<std::string>& orgs) {
  if (!admits(config.access, profile, orgs)) return {false, "not admitted by the [access] rules"};
  if (!admits(provider.access, profile, orgs))
    return {false, "not admitted by the rules of [provider " + provider.name + "]"};
  return {};
}

bool needs_github_orgs(const Config& config, const ProviderConfig& provider) {
  return provider_type(provider.type).takes_github_orgs &&
         (!config.access.github_orgs.empty() || !provider.access.github_orgs.empty());
}

} // namespace oauthfcgi
