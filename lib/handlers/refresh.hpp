// Keeping a session's token usable. Before a provider call, a token that is expired or
// within kRefreshMargin of it is refreshed; after a provider's 401 it is refreshed once
// and the call tried once more. invalid_grant (or a second 401) ends the session (401);
// a provider 5xx or timeout during the refresh answers 502/504 and keeps it.
//
// One refresh per session at a time, across every process and host: the session's
// lock in Redis (a StoreLock of lock.hpp on AuthStore::lock_key) is held by the
// request that refreshes, released only by it, its lease extended while the provider
// answers (lease_http.hpp, on the worker's own thread and Redis connection). The
// others wait for the lock to go (bounded by [http] timeout_ms) and use what the
// owner stored. Every rewrite of a stored session holds the same lock, so a profile
// update can't put back a refresh token the provider has already rotated away, and
// is written only while the session still exists (SET XX): a logout, which takes no
// lock, is never undone; the tokens a refresh got meanwhile are revoked, not stored.
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "context.hpp"
#include "error.hpp"
#include "lock.hpp"
#include "provider.hpp"
#include "sessions.hpp"

namespace oauthfcgi {

// Seconds before expires_at from which a token counts as expiring.
constexpr long kRefreshMargin = 60;

// True when the access token has an expiry and now is past expires_at - kRefreshMargin.
bool token_expiring(const TokenSet& tokens, long now);

// The session with a token fit for a provider call. Without `force`, a token that is
// not expiring comes back as is. With `force` (the provider refused the token), it is
// refreshed whatever its expiry, unless another request already replaced it.
// Errors: unauthenticated when the session has ended (invalid_grant, nothing to
// refresh with, logged out meanwhile; the record is deleted, or stays deleted); provider_error or
// provider_timeout when the provider failed the refresh (the session is kept).
Result<Session> fresh_tokens(Context& ctx, const Provider& provider, std::string_view cookie, Session session,
                             bool force);

// A provider call with the user's token, as oauth-profile ?refresh=1 and oauth-api make
// it: `call` gets the session with a fresh token (fresh_tokens without force); when it
// fails with token_rejected (the provider's 401), the token is refreshed whatever its
// expiry and `call` made once more; a second token_rejected ends the session
// (unauthenticated). The session `call` last succeeded with comes back.
Result<Session> call_with_token(Context& ctx, const Provider& provider, std::string_view cookie,
                                Session session, const std::function<Result<void>(const Session&)>& call);

// oauth-profile ?refresh=1: the user fetched anew from the provider with a fresh token
// (OpenID types: from userinfo, or the stored profile when the server has none), once
// more after a refresh when the provider answers 401; stored in the session with its
// created, expires_at and orgs unchanged. A second 401 ends the session.
Result<Session> refetch_profile(Context& ctx, const Provider& provider, std::string_view cookie,
                                Session session);

// Read-modify-write of a stored session under its lock: re-read, change, written back
// with its TTL. unauthenticated when the session is gone; provider_timeout when a
// refresh held the lock past the wait bound.
Result<Session> update_session(Context& ctx, std::string_view cookie,
                               const std::function<void(Session&)>& change);

} // namespace oauthfcgi
