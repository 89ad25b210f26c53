// Token revocation at sign-out, where the provider has an endpoint for it: each type's
// revoke in its row (provider_types.hpp); RFC 7009, which oauth2, oidc and gitlab use,
// and the pieces the others share, here. One call per sign-out; every call has the
// [http] timeouts of the HttpClient.
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

// Revokes the session's grant at the provider. An error (provider_error, or
// provider_timeout) names the provider and what went wrong, never a token or secret;
// callers log it and carry on: a failed revocation never blocks a sign-out.
Result<Revocation> revoke_tokens(HttpClient& http, const Provider& provider, const TokenSet& tokens,
                                 long now);

// ---- for the types' revocations (provider_<name>.cpp) ----

// RFC 7009 at revoke_url: oauth2, oidc and gitlab.
Result<Revocation> revoke_rfc7009(HttpClient& http, const Provider& provider, const TokenSet& tokens,
                                  long now);
// A token that is there and not past its expiry (0: none known).
bool live_token(const std::string& token, long expires_at, long now);
// Sends `request`: revoked on a 2xx, else an error saying what the endpoint answered.
Result<Revocation> send_revocation(HttpClient& http, const Provider& provider, const HttpRequest& request);
// "<name> revocation endpoint <problem>", a provider_error.
Error revocation_refused(const Provider& provider, const std::string& problem);
// A transport error (timeout, unreachable) naming the endpoint; its kind stays.
Error revocation_transport(const Provider& provider, const Error& error);

} // namespace oauthfcgi
