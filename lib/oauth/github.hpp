// GitHub beyond the sign-in itself (github.cpp holds the sign-in hooks).
#pragma once

#include <string>
#include <vector>

#include "error.hpp"
#include "http_client.hpp"
#include "provider.hpp"
#include "tokens.hpp"

namespace oauthfcgi {

// The logins of the organisations the user belongs to: GET <userinfo_url>/orgs
// (api.github.com/user/orgs; private memberships need the read:org scope). The first
// 100, which is GitHub's page limit.
Result<std::vector<std::string>> github_orgs(HttpClient& http, const Provider& provider,
                                             const TokenSet& tokens);

} // namespace oauthfcgi
