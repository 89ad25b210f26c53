// Who may sign in: the [access] rules and a provider's own (docs/configuration.md). Within one
// set of rules, matching any non-empty list admits (an empty set admits anyone);
// the [access] set and the provider's set must both admit.
#pragma once

#include <string>
#include <vector>

#include "config.hpp"
#include "profile.hpp"

namespace oauthfcgi {

struct AccessDecision {
  bool allowed = true;
  std::string reason; // why not, naming the rules (no secret): for the log and the page
};

// allowed_emails: the (verified) email, case-insensitive; allowed_domains: its
// domain; allowed_users: the login (case-insensitive) or the id; github_orgs: one of
// `orgs` (the GitHub organisations read at sign-in), case-insensitive.
AccessDecision check_access(const Config& config, const ProviderConfig& provider, const Profile& profile,
                            const std::vector<std::string>& orgs);

// True when a github_orgs rule applies to this provider, so sign-in must read the
// user's organisations (and ask for read:org).
bool needs_github_orgs(const Config& config, const ProviderConfig& provider);

} // namespace oauthfcgi
