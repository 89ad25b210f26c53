// GitHub's functions beyond its row in the table (provider_github.cpp), for the
// callback handler and the tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "error.hpp"
#include "http_client.hpp"
#include "json.hpp"
#include "provider.hpp"
#include "tokens.hpp"

namespace oauthfcgi {

// The logins of the organisations the user belongs to: GET <userinfo_url>/orgs
// (api.github.com/user/orgs; private memberships need the read:org scope). The first
// 100, which is GitHub's page limit.
Result<std::vector<std::string>> github_orgs(HttpClient& http, const Provider& provider,
                                             const TokenSet& tokens);

// /user/emails: the primary verified address, if any.
std::optional<std::string> primary_verified_email(const cJSON* emails);

// Where GitHub's "Delete an app token" is: revoke_url when the config sets it (the full
// URL, e.g. https://HOST/api/v3/applications/CLIENT_ID/token), else the API base of
// userinfo_url (".../user" -> ".../applications/<client_id>/token"), so the default is
// https://api.github.com/applications/<client_id>/token and GitHub Enterprise follows
// its userinfo_url. "" when userinfo_url does not end in /user.
std::string github_revoke_url(const Provider& provider);

} // namespace oauthfcgi
