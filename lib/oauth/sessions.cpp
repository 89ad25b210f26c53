// States and sessions in the Store: their records, both ways, and AuthStore.
#include "sessions.hpp"

#include <algorithm>

#include "json.hpp"
#include "store_keys.hpp"

namespace oauthfcgi {
namespace {

long number_or_zero(const cJSON* o, const char* key) {
  return json_integer(o, key).value_or(0);
}

std::string string_or_empty(const cJSON* o, const char* key) {
  return json_string(o, key).value_or("");
}

// The tokens' secrets: under "tokens" in format 1, the second object in format 2.
void secrets_from(const cJSON* t, TokenSet& tokens) {
  tokens.access_token = string_or_empty(t, "access_token");
  tokens.token_type = string_or_empty(t, "token_type");
  tokens.refresh_token = string_or_empty(t, "refresh_token");
  tokens.id_token = string_or_empty(t, "id_token");
  tokens.refresh_expires_at = number_or_zero(t, "refresh_expires_at");
}

} // namespace

std::string binding_mac(const Keys& keys, std::string_view binding_cookie) {
  return base64url_encode(hmac_sha256(keys.cookie, binding_cookie));
}

std::string AuthStore::state_key(std::string_view state) const {
  return oauthfcgi::state_key(keys_, state);
}
std::string AuthStore::session_key(std::string_view cookie_value) const {
  return oauthfcgi::session_key(keys_, cookie_value);
}
std::string AuthStore::lock_key(std::string_view cookie_value) const {
  return session_lock_key(keys_, cookie_value);
}

std::string encode_state(const LoginState& s) {
  Json o = json_object();
  json_set_string(o.get(), "provider", s.provider);
  json_set_string(o.get(), "binding", s.binding);
  json_set_string(o.get(), "verifier", s.verifier);
  if (!s.nonce.empty()) json_set_string(o.get(), "nonce", s.nonce);
  json_set_string(o.get(), "return_to", s.return_to);
  json_set_number(o.get(), "created", static_cast<double>(s.created));
  return json_print(o.get());
}

std::optional<LoginState> decode_state(std::string_view text) {
  auto o = json_parse_object(text);
  if (!o.ok()) return std::nullopt;
  LoginState s;
  auto provider = json_string(o->get(), "provider");
  auto binding = json_string(o->get(), "binding");
  if (!provider || !binding) return std::nullopt;
  s.provider = *provider;
  s.binding = *binding;
  s.verifier = string_or_empty(o->get(), "verifier");
  s.nonce = string_or_empty(o->get(), "nonce");
  s.return_to = string_or_empty(o->get(), "return_to");
  s.created = number_or_zero(o->get(), "created");
  return s;
}

std::string encode_session(const Session& s) {
  Json o = json_object();
  json_set_number(o.get(), "v", 2);
  Json profile = json_object();
  profile_to(profile.get(), s.profile);
  cJSON_AddItemToObject(o.get(), "profile", profile.release());
  json_set_number(o.get(), "created", static_cast<double>(s.created));
  json_set_number(o.get(), "expires_at", static_cast<double>(s.expires_at));
  if (!s.orgs.empty()) {
    cJSON* orgs = cJSON_AddArrayToObject(o.get(), "orgs");
    for (const auto& org : s.orgs)
      cJSON_AddItemToArray(orgs, cJSON_CreateString(org.c_str()));
  }
  Json info = json_object();
  json_set_number(info.get(), "expires_at", static_cast<double>(s.tokens.expires_at));
  json_set_string(info.get(), "scope", s.tokens.scope);
  cJSON_AddItemToObject(o.get(), "token", info.release());
  Json secrets = json_object();
  json_set_string(secrets.get(), "access_token", s.tokens.access_token);
  json_set_string(secrets.get(), "token_type", s.tokens.token_type);
  json_set_string(secrets.get(), "refresh_token", s.tokens.refresh_token);
  json_set_string(secrets.get(), "id_token", s.tokens.id_token);
  json_set_number(secrets.get(), "refresh_expires_at", static_cast<double>(s.tokens.refresh_expires_at));
  return json_print(o.get()) + "\n" + json_print(secrets.get());
}

std::optional<Session> decode_session(std::string_view text, SessionPart part) {
  std::string_view rest;
  auto head = json_parse_first(text, &rest);
  if (!head.ok() || !cJSON_IsObject(head->get())) return std::nullopt;
  const cJSON* o = head->get();
  long version = json_integer(o, "v").value_or(1);
  if (version != 1 && version != 2) return std::nullopt; // a later format: unreadable here
  Session s;
  auto profile = profile_from(cJSON_GetObjectItemCaseSensitive(o, "profile"));
  if (!profile.ok()) return std::nullopt;
  s.profile = std::move(profile.value());
  s.created = number_or_zero(o, "created");
  s.expires_at = number_or_zero(o, "expires_at");
  const cJSON* orgs = cJSON_GetObjectItemCaseSensitive(o, "orgs");
  const cJSON* org = nullptr;
  if (cJSON_IsArray(orgs)) {
    cJSON_ArrayForEach(org, orgs) {
      if (cJSON_IsString(org)) s.orgs.emplace_back(org->valuestring);
    }
  }
  s.tokens_read = part == SessionPart::all;
  // expires_at and scope: under "token" in format 2, under "tokens" with the rest in format 1.
  const cJSON* info = cJSON_GetObjectItemCaseSensitive(o, version == 1 ? "tokens" : "token");
  s.tokens.expires_at = number_or_zero(info, "expires_at");
  s.tokens.scope = string_or_empty(info, "scope");
  if (version == 1) { // one object: its "tokens" hold everything
    if (!rest.empty()) return std::nullopt;
    if (s.tokens_read) secrets_from(info, s.tokens);
    return s;
  }
  if (!s.tokens_read) {
    if (rest.empty() || rest.front() != '{') return std::nullopt;
    return s;
  }
  auto secrets = json_parse_object(rest);
  if (!secrets.ok()) return std::nullopt;
  secrets_from(secrets->get(), s.tokens);
  return s;
}

Result<void> AuthStore::put_state(std::string_view state, const LoginState& login) {
  return put_sealed(store_, keys_, state_key(state), encode_state(login), kStateTtl);
}

Result<std::optional<LoginState>> AuthStore::take_state(std::string_view state) {
  const std::string key = state_key(state);
  Lookup found = open_found(keys_, key, store_.take(key));
  if (!found.ok()) return found.error();
  if (!found->has_value()) return std::optional<LoginState>();
  return decode_state(**found);
}

Result<AuthStore::Claimed> AuthStore::claim_state(std::string_view state, std::string_view provider,
                                                  std::string_view binding_cookie) {
  // Read first and taken only once it is known to be ours: of two callbacks of this
  // browser with one state, GETDEL still lets exactly one have it.
  const std::string key = state_key(state);
  Lookup peeked = get_sealed(store_, keys_, key);
  if (!peeked.ok()) return peeked.error();
  std::optional<LoginState> login = peeked->has_value() ? decode_state(**peeked) : std::nullopt;
  Claimed out;
  if (!login) return out;
  if (login->provider != provider) {
    out.outcome = Claim::other_provider;
    return out;
  }
  if (!constant_time_equal(login->binding, binding_mac(keys_, binding_cookie))) {
    out.outcome = Claim::other_browser;
    return out;
  }
  auto taken = take_state(state);
  if (!taken.ok()) return taken.error();
  if (!taken->has_value()) return out;  // another tab of this browser was faster
  (void)forget_pending(binding_cookie); // a stale count only expires sooner or later
  out.outcome = Claim::claimed;
  out.login = std::move(**taken);
  return out;
}

Result<long long> AuthStore::add_pending(std::string_view binding_cookie) {
  return store_.add(pending_key(keys_, binding_cookie), 1, kStateTtl, kMaxPendingLogins);
}

Result<long long> AuthStore::forget_pending(std::string_view binding_cookie) {
  return store_.add(pending_key(keys_, binding_cookie), -1, kStateTtl, kMaxPendingLogins);
}

Result<void> AuthStore::put_session(std::string_view cookie_value, const Session& session,
                                    std::chrono::seconds ttl) {
  if (!session.tokens_read)
    return make_error(ErrorKind::internal, "a session read without its tokens can't be written back");
  return put_sealed(store_, keys_, session_key(cookie_value), encode_session(session), ttl);
}

Result<bool> AuthStore::rewrite_session(std::string_view cookie_value, const Session& session,
                                        std::chrono::seconds ttl) {
  if (!session.tokens_read)
    return make_error(ErrorKind::internal, "a session read without its tokens can't be written back");
  return rewrite_sealed(store_, keys_, session_key(cookie_value), encode_session(session), ttl);
}

Result<std::optional<Session>> AuthStore::get_session(std::string_view cookie_value) {
  Lookup found = get_sealed(store_, keys_, session_key(cookie_value));
  if (!found.ok()) return found.error();
  if (!found->has_value()) return std::optional<Session>();
  return decode_session(**found);
}

std::chrono::seconds session_ttl(const Session& session, const SessionConfig& config, long now) {
  long left = std::max(1L, session.expires_at - now);
  if (config.idle_timeout > 0) left = std::min(left, config.idle_timeout);
  return std::chrono::seconds(left);
}

Result<std::optional<Session>> AuthStore::use_session(std::string_view cookie_value,
                                                      const SessionConfig& config, long now,
                                                      SessionPart part) {
  return use_session(cookie_value, config, now, [part](const Session&) { return part; });
}

Result<std::optional<Session>>
AuthStore::use_session(std::string_view cookie_value, const SessionConfig& config, long now,
                       const std::function<SessionPart(const Session&)>& part_for) {
  // Sliding to the idle timeout may outlast the absolute end by up to that much in
  // Redis; the expires_at check below is what ends the session on time.
  auto slide = std::chrono::milliseconds(std::chrono::seconds(config.idle_timeout));
  const std::string key = session_key(cookie_value);
  Lookup found =
      open_found(keys_, key, slide.count() > 0 ? store_.get_and_expire(key, slide) : store_.get(key));
  if (!found.ok()) return found.error();
  if (!found->has_value()) return std::optional<Session>();
  // The identity first; the secrets' line is parsed only when this session needs them.
  auto session = decode_session(**found, SessionPart::identity);
  if (session && part_for(*session) == SessionPart::all) session = decode_session(**found, SessionPart::all);
  if (session && session->expires_at > 0 && now >= session->expires_at) {
    (void)delete_session(cookie_value);
    return std::optional<Session>();
  }
  return session;
}

Result<bool> AuthStore::delete_session(std::string_view cookie_value) {
  return store_.remove(session_key(cookie_value));
}

Result<AuthStore::Taken> AuthStore::take_session(std::string_view cookie_value) {
  const std::string key = session_key(cookie_value);
  Lookup found = store_.take(key);
  if (!found.ok()) return found.error();
  Taken taken;
  taken.found = found->has_value();
  if (!taken.found) return taken;
  Lookup plain = open_found(keys_, key, std::move(found));
  if (plain.ok() && plain->has_value()) taken.session = decode_session(**plain);
  return taken;
}

} // namespace oauthfcgi
