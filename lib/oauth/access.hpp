// Who may sign in: the [access] rules and a provider's own (docs/configuration.md). Within one
// set of rules, matching any non-empty list admits (an empty set admits anyone);
// the [access] set and the provider's set must both admit.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "profile.hpp"

namespace oauthfcgi {

struct AccessDecision {
  bool allowed = true;
  std::string reason; // why not, naming the rules (no secret): for the log and the page
};

// allowed_emails: the (verified) email, case-insensitive; allowed_domains: its
// domain; allowed_users: a login (case-insensitive) or an id (exact), at the provider
// the entry names (an entry naming none is the section's own provider); github_orgs:
// one of `orgs` (the GitHub organisations read at sign-in), case-insensitive.
AccessDecision check_access(const Config& config, const ProviderConfig& provider, const Profile& profile,
                            const std::vector<std::string>& orgs);

// True when a github_orgs rule applies to this provider, so sign-in must read the
// user's organisations (and ask for read:org).
bool needs_github_orgs(const Config& config, const ProviderConfig& provider);

// One user as allowed_users (and a grant's admins) write it: "alice" (a login),
// "id:1001" (an id), "github:alice", "github:id:583231" (the same, at [provider
// github]). A first part "id" is always the id marker, never a provider's name. The
// reason says what is wrong, without the fix (the caller knows the key).
Result<UserRef> parse_user_ref(std::string_view entry);
// The entry as it is written, e.g. "github:id:583231".
std::string user_ref_text(const UserRef& ref);
// Whether `profile`, signed in at [provider `provider`], is `ref`. An entry without
// a provider matches any provider: only a provider's own rules hold such entries.
bool user_ref_matches(const UserRef& ref, std::string_view provider, const Profile& profile);

} // namespace oauthfcgi
