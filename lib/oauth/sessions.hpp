// Pending logins (states) and signed-in browsers (sessions) in the Store: their
// records, both ways, and AuthStore, the typed get/put that handlers use. Key names
// and sealing are store_keys.hpp's. A state lives kStateTtl and is taken once
// (GETDEL); a session lives its session_ttl(); the session's lock (refresh.cpp) keeps
// one writer at a time.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crypto.hpp"
#include "error.hpp"
#include "profile.hpp"
#include "store.hpp"
#include "tokens.hpp"

namespace oauthfcgi {

constexpr std::chrono::seconds kStateTtl{600};
// Logins one browser (binding cookie) may have pending at once: each holds a state
// in Redis for kStateTtl, so an unbounded number would let one client fill Redis.
constexpr long long kMaxPendingLogins = 10;

// A login between connect and callback.
struct LoginState {
  std::string provider;
  std::string binding;  // binding_mac() of the browser's binding cookie
  std::string verifier; // PKCE code_verifier
  std::string nonce;    // OpenID Connect nonce; the ID token must carry it
  std::string return_to;
  long created = 0; // unix seconds
};

struct Session {
  Profile profile;
  TokenSet tokens;
  long created = 0;    // unix seconds
  long expires_at = 0; // absolute end, unix seconds
  // GitHub organisations the user belongs to, read at login when a github_orgs rule
  // exists, so oauth-check can apply a changed rule without calling GitHub.
  std::vector<std::string> orgs;
  // false when read as SessionPart::identity: the tokens hold only expires_at and
  // scope, and put_session refuses to write the session back.
  bool tokens_read = true;
};

// What of a session record its reader needs.
enum class SessionPart {
  identity, // profile, times, orgs, and of the tokens only expires_at and scope (check, profile)
  all,      // and the tokens themselves: for calling the provider or writing the session back
};

// The Redis TTL a session gets when written at `now`: the time left to its absolute
// end, or the idle timeout when that is shorter.
std::chrono::seconds session_ttl(const Session& session, const SessionConfig& config, long now);

// What a browser's binding cookie becomes inside a state record.
std::string binding_mac(const Keys& keys, std::string_view binding_cookie);

class AuthStore {
public:
  AuthStore(Store& store, const Keys& keys) : store_(store), keys_(keys) {}

  Result<void> put_state(std::string_view state, const LoginState& login);
  // The state's record, once. nullopt: unknown, expired, already used or unreadable.
  Result<std::optional<LoginState>> take_state(std::string_view state);
  // The state's record, taken (GETDEL) only when it was started by this browser
  // (binding cookie) for this provider: a state sent from another browser or to
  // another provider's callback is left to its own browser. A claimed state is no
  // longer pending for its browser.
  enum class Claim { claimed, unknown, other_provider, other_browser };
  struct Claimed {
    Claim outcome = Claim::unknown;
    LoginState login; // when claimed
  };
  Result<Claimed> claim_state(std::string_view state, std::string_view provider,
                              std::string_view binding_cookie);
  // One more pending login for the browser with this binding cookie: how many it has
  // now, counted for kStateTtl after its latest; kMaxPendingLogins + 1 when it has
  // that many already (then nothing is counted, nor the count prolonged).
  // forget_pending() takes one back.
  Result<long long> add_pending(std::string_view binding_cookie);
  Result<long long> forget_pending(std::string_view binding_cookie);

  // A new session (the callback): SET.
  Result<void> put_session(std::string_view cookie_value, const Session& session, std::chrono::seconds ttl);
  // A stored session written back (refresh, profile update): only while it still exists
  // (SET XX), so a logout meanwhile is never undone. false: the session has ended.
  Result<bool> rewrite_session(std::string_view cookie_value, const Session& session,
                               std::chrono::seconds ttl);
  // nullopt: no such session, or one this server can't read (secret changed).
  Result<std::optional<Session>> get_session(std::string_view cookie_value);
  // A session in use (check, profile): past its absolute end it is deleted and
  // absent; with an idle timeout its TTL slides to min(idle, time left), in the
  // same round trip as the read (GETEX).
  // `part`: SessionPart::identity leaves the tokens' secrets unread (and undecoded).
  Result<std::optional<Session>> use_session(std::string_view cookie_value, const SessionConfig& config,
                                             long now, SessionPart part = SessionPart::all);
  // The same round trip, the part chosen per session: `part_for` sees the identity and
  // says whether the tokens' secrets are wanted too (oauth-check: pass_access_token is
  // per provider, and only its sessions' tokens are decoded).
  Result<std::optional<Session>> use_session(std::string_view cookie_value, const SessionConfig& config,
                                             long now,
                                             const std::function<SessionPart(const Session&)>& part_for);
  Result<bool> delete_session(std::string_view cookie_value);
  // A signing-out session, read and removed in one round trip (GETDEL). `found` says
  // whether there was a record at all; `session` is empty when it was unreadable.
  struct Taken {
    bool found = false;
    std::optional<Session> session;
  };
  Result<Taken> take_session(std::string_view cookie_value);

  // Key names (store_keys.hpp), exposed for tests that inspect Redis.
  std::string state_key(std::string_view state) const;
  std::string session_key(std::string_view cookie_value) const;
  // The session's lock (lock.hpp's StoreLock): one writer at a time across processes and hosts.
  std::string lock_key(std::string_view cookie_value) const;

private:
  Store& store_;
  const Keys& keys_;
};

// Record encodings, exposed for tests and fuzzers. A session record (format "v":2) is
// two JSON objects on two lines: what oauth-check and oauth-profile read, then the
// tokens' secrets, which SessionPart::identity leaves unparsed:
//   {"v":2,"profile":{...},"created":n,"expires_at":n,"orgs":[...],"token":{"expires_at":n,"scope":"..."}}
//   {"access_token":"...","token_type":"...","refresh_token":"...","id_token":"...","refresh_expires_at":n}
// Records of format 1 (one object, every token field under "tokens") are still read.
std::string encode_state(const LoginState& login);
std::optional<LoginState> decode_state(std::string_view json);
std::string encode_session(const Session& session);
std::optional<Session> decode_session(std::string_view text, SessionPart part = SessionPart::all);

} // namespace oauthfcgi
