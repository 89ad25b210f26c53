// Token refresh under the session's lock, and the session updates that share it (refresh.hpp).
#include "refresh.hpp"

#include "flow.hpp"
#include "lease_http.hpp"
#include "oidc.hpp"
#include "revoke.hpp"

namespace oauthfcgi {
namespace {

// What a lock's owner id starts with. A waiter that saw a refresh hold the lock uses
// its outcome; after anything else it tries to take the lock itself.
constexpr std::string_view kRefreshOwner = "refresh:";
constexpr std::string_view kUpdateOwner = "update:";

Error still_refreshing(const Provider& p, const LockTiming& timing) {
  return make_error(ErrorKind::provider_timeout, "another request was still refreshing the " + p.name +
                                                     " token after " + std::to_string(timing.wait.count()) +
                                                     " ms");
}

Error end_session(Context& ctx, AuthStore& auth, std::string_view cookie, const Provider& p, Error why) {
  (void)auth.delete_session(cookie); // absent already, or Redis down: either way it is not used again
  ctx.log.info("session_ended", {{"provider", p.name}, {"reason", why.reason}});
  return why;
}

// The session ended (a logout) while its token was refreshed: the new tokens were stored
// nowhere, and are revoked where the provider can, so none outlives the sign-out.
// Never fails: the outcome is logged.
void revoke_orphaned(Context& ctx, const Provider& p, const TokenSet& tokens) {
  auto outcome = revoke_tokens(ctx.http, p, tokens, ctx.clock.now());
  LogFields fields = {{"provider", p.name}};
  if (outcome.ok()) {
    fields.emplace_back("revocation", revocation_name(*outcome));
    ctx.log.info("refreshed_tokens_revoked", fields);
    return;
  }
  fields.emplace_back("revocation", "failed");
  fields.emplace_back("reason", outcome.error().reason);
  ctx.log.warn("refreshed_tokens_revoked", fields);
}

// OIDC Core 12.2: an ID token in a refresh answer must verify like the first one (no
// nonce) and name the same user; otherwise the one from the sign-in stays.
void keep_verified_id_token(Context& ctx, HttpClient& http, const Provider& p, const Session& s, TokenSet& t,
                            long now) {
  auto claims = verify_id_token(p, ctx.store, ctx.keys, http, t.id_token, "", now);
  std::string why;
  if (!claims.ok())
    why = claims.error().reason;
  else if (json_string(claims->get(), "sub").value_or("") != s.profile.id)
    why = "the refreshed ID token names another user (sub)";
  if (why.empty()) return;
  ctx.log.warn("id_token_refused", {{"provider", p.name}, {"reason", why}});
  t.id_token = s.tokens.id_token;
}

// Holding the lock: the stored session is the truth (another request may have just
// refreshed it); refresh it unless so, and write it back whole (one SET of the sealed
// record: the rotated pair replaces the old one at once).
Result<Session> refresh_as_owner(Context& ctx, const Provider& p, AuthStore& auth, StoreLock& lock,
                                 std::string_view cookie, const std::string& seen) {
  auto stored = auth.get_session(cookie);
  if (!stored.ok()) return stored.error();
  if (!stored->has_value()) return make_error(ErrorKind::unauthenticated, "the session has ended");
  Session s = std::move(**stored);
  if (s.tokens.access_token != seen) return s;
  long now = ctx.clock.now();
  LeaseKeepingHttp http(ctx.http, lock);
  auto renewed = refresh_tokens(http, p, s.tokens, now);
  if (!renewed.ok()) {
    if (renewed.error().kind == ErrorKind::unauthenticated)
      return end_session(ctx, auth, cookie, p, renewed.error());
    return renewed.error();
  }
  TokenSet t = std::move(renewed.value());
  if (p.openid && t.id_token != s.tokens.id_token) keep_verified_id_token(ctx, http, p, s, t, now);
  s.tokens = std::move(t);
  // A logout while the provider answered wins: the session is written back only while
  // it still exists (SET XX, one step: no gap between a check and the write).
  auto put = auth.rewrite_session(cookie, s, session_ttl(s, ctx.config.session, ctx.clock.now()));
  if (!put.ok()) return put.error();
  if (!*put) {
    revoke_orphaned(ctx, p, s.tokens);
    return make_error(ErrorKind::unauthenticated, "the session ended while its token was refreshed");
  }
  ctx.log.info("token_refreshed", {{"provider", p.name}, {"user", s.profile.user()}});
  return s;
}

// The user document with the session's token, which must still be this user's.
Result<Profile> fetch_user(Context& ctx, const Provider& p, const Session& s) {
  if (p.openid && p.userinfo_url.empty()) return s.profile; // all we know came with the ID token
  TokenSet tokens = s.tokens;
  tokens.subject = s.profile.id;
  auto fetched = fetch_profile(ctx.http, p, tokens);
  if (!fetched.ok() || !p.openid) return fetched;
  // What userinfo leaves out, the ID token said at sign-in (as oidc_profile merges them);
  // an email userinfo now calls unverified is dropped.
  fill_profile(*fetched, s.profile);
  return fetched;
}

} // namespace

bool token_expiring(const TokenSet& tokens, long now) {
  return tokens.expires_at != 0 && now >= tokens.expires_at - kRefreshMargin;
}

Result<Session> fresh_tokens(Context& ctx, const Provider& p, std::string_view cookie, Session session,
                             bool force) {
  long now = ctx.clock.now();
  if (!force && !token_expiring(session.tokens, now)) return session;
  AuthStore auth(ctx.store, ctx.keys);
  if (!refreshable(p, session.tokens, now)) {
    if (!force && now < session.tokens.expires_at) return session; // good for a few more seconds
    return end_session(ctx, auth, cookie, p,
                       make_error(ErrorKind::unauthenticated,
                                  p.name + (force ? " refused the access token" : " access token expired") +
                                      " and there is no refresh token to renew it: sign in again"));
  }
  const LockTiming timing = lock_timing(ctx.config);
  const std::string seen = session.tokens.access_token;
  const auto deadline = ctx.clock.steady() + timing.wait;
  for (;;) {
    StoreLock lock(ctx.store, auth.lock_key(cookie), kRefreshOwner, timing, ctx.clock, ctx.random);
    auto got = lock.try_acquire();
    if (!got.ok()) return got.error();
    if (*got) return refresh_as_owner(ctx, p, auth, lock, cookie, seen);
    auto released = wait_for_release(ctx.store, lock.key(), deadline, timing.poll, ctx.clock);
    if (!released.ok()) return released.error();
    if (!released->released) return still_refreshing(p, timing);
    if (!released->held_by(kRefreshOwner)) {
      // A profile update (or an owner gone before we looked): try to take it ourselves.
      if (ctx.clock.steady() >= deadline) return still_refreshing(p, timing);
      continue;
    }
    // Another request refreshed: use what it stored.
    auto stored = auth.get_session(cookie);
    if (!stored.ok()) return stored.error();
    if (!stored->has_value())
      return make_error(ErrorKind::unauthenticated,
                        "the session ended while another request refreshed its token");
    if ((*stored)->tokens.access_token != seen) return std::move(**stored);
    return make_error(ErrorKind::provider_error,
                      "the " + p.name + " token refresh by another request failed");
  }
}

Result<Session> update_session(Context& ctx, std::string_view cookie,
                               const std::function<void(Session&)>& change) {
  AuthStore auth(ctx.store, ctx.keys);
  const LockTiming timing = lock_timing(ctx.config);
  StoreLock lock(ctx.store, auth.lock_key(cookie), kUpdateOwner, timing, ctx.clock, ctx.random);
  auto got = lock.acquire_until(ctx.clock.steady() + timing.wait);
  if (!got.ok()) return got.error();
  if (!*got)
    return make_error(ErrorKind::provider_timeout,
                      "another request was still refreshing the session's token after " +
                          std::to_string(timing.wait.count()) + " ms");
  auto stored = auth.get_session(cookie);
  if (!stored.ok()) return stored.error();
  if (!stored->has_value()) return make_error(ErrorKind::unauthenticated, "the session has ended");
  Session s = std::move(**stored);
  change(s);
  // Only while it still exists: a logout since the read above is not undone.
  auto put = auth.rewrite_session(cookie, s, session_ttl(s, ctx.config.session, ctx.clock.now()));
  if (!put.ok()) return put.error();
  if (!*put) return make_error(ErrorKind::unauthenticated, "the session ended while it was updated");
  return s;
}

Result<Session> call_with_token(Context& ctx, const Provider& p, std::string_view cookie, Session session,
                                const std::function<Result<void>(const Session&)>& call) {
  auto fresh = fresh_tokens(ctx, p, cookie, std::move(session), false);
  if (!fresh.ok()) return fresh.error();
  Session current = std::move(fresh.value());
  auto outcome = call(current);
  if (outcome.ok() || outcome.error().kind != ErrorKind::token_rejected) {
    if (!outcome.ok()) return outcome.error();
    return current;
  }
  // Revoked or expired early at the provider: refresh once, try once more.
  ctx.log.info("token_rejected", {{"provider", p.name}, {"reason", outcome.error().reason}});
  auto renewed = fresh_tokens(ctx, p, cookie, std::move(current), true);
  if (!renewed.ok()) return renewed.error();
  current = std::move(renewed.value());
  outcome = call(current);
  if (outcome.ok()) return current;
  if (outcome.error().kind != ErrorKind::token_rejected) return outcome.error();
  AuthStore auth(ctx.store, ctx.keys);
  return end_session(ctx, auth, cookie, p,
                     make_error(ErrorKind::unauthenticated,
                                p.name + " refused the refreshed access token too: the sign-in has ended"));
}

Result<Session> refetch_profile(Context& ctx, const Provider& p, std::string_view cookie, Session session) {
  Profile profile;
  auto used = call_with_token(ctx, p, cookie, std::move(session), [&](const Session& s) -> Result<void> {
    auto fetched = fetch_user(ctx, p, s);
    if (!fetched.ok()) return fetched.error();
    profile = std::move(fetched.value());
    return {};
  });
  if (!used.ok()) return used.error();
  return update_session(ctx, cookie, [&](Session& s) { s.profile = std::move(profile); });
}

} // namespace oauthfcgi
