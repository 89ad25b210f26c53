// Token revocation at sign-out, where the provider has an endpoint for it:
//   oauth2, oidc, gitlab  RFC 7009 at revoke_url (config, or discovery's revocation_endpoint)
//   google                its revoke endpoint (from discovery): POST token=…, no client auth
//   github                DELETE /applications/{client_id}/token, Basic as the app, {"access_token"}
//   facebook              DELETE /{graph_version}/me/permissions with the token and appsecret_proof
// One call per sign-out; every call has the [http] timeouts of the HttpClient.
#pragma once

#include <string>

#include "error.hpp"
#include "http_client.hpp"
#include "provider.hpp"
#include "tokens.hpp"

namespace oauthfcgi {

enum class Revocation {
  revoked,       // the provider confirmed it
  no_endpoint,   // the provider has no revocation endpoint (plain oauth2 without revoke_url)
  no_live_token, // no token left to revoke: none kept, or every one past its expiry
};
// "revoked", "no_endpoint", "no_live_token": the revocation field of the logout log line.
const char* revocation_name(Revocation outcome);

// Where GitHub's "Delete an app token" is: revoke_url when the config sets it (the full
// URL, e.g. https://HOST/api/v3/applications/CLIENT_ID/token), else the API base of
// userinfo_url (".../user" -> ".../applications/<client_id>/token"), so the default is
// https://api.github.com/applications/<client_id>/token and GitHub Enterprise follows
// its userinfo_url. "" when userinfo_url does not end in /user.
std::string github_revoke_url(const Provider& provider);

// Revokes the session's grant at the provider. An error (provider_error, or
// provider_timeout) names the provider and what went wrong, never a token or secret;
// callers log it and carry on: a failed revocation never blocks a sign-out.
Result<Revocation> revoke_tokens(HttpClient& http, const Provider& provider, const TokenSet& tokens,
                                 long now);

} // namespace oauthfcgi
