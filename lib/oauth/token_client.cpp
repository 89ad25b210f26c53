// The client-credentials grant, the token caches and TokenClient (token_client.hpp).
#include "token_client.hpp"

#include <algorithm>

#include "flow.hpp"
#include "json.hpp"
#include "lease_http.hpp"
#include "provider.hpp"
#include "store_keys.hpp"
#include "text.hpp"
#include "tokens.hpp"
#include "url.hpp"

namespace oauthfcgi {
namespace {

using ms = std::chrono::milliseconds;

// What the renewal lock's owner id starts with.
constexpr std::string_view kTokenOwner = "token:";

std::string label(const ClientConfig& client) {
  return "[client " + client.name + "]";
}

Error still_renewing(const std::string& who, ms waited) {
  return make_error(ErrorKind::provider_timeout,
                    who + " was still asking the token endpoint for a token after " +
                        std::to_string(waited.count()) + " ms");
}

// The failure note waiters read: who failed, and how.
std::string encode_failure(const std::string& owner, const Error& e) {
  Json o = json_object();
  json_set_string(o.get(), "owner", owner);
  json_set_number(o.get(), "kind", static_cast<int>(e.kind));
  json_set_string(o.get(), "reason", e.reason);
  return json_print(o.get());
}

} // namespace

ms renewal_margin(const ClientToken& t) {
  ms lifetime(std::max(0LL, t.expires_at - t.obtained_at));
  return std::min(ms(kMaxRenewalMargin), lifetime / 10);
}

bool needs_renewal(const ClientToken& t, long long now_ms) {
  return now_ms >= t.expires_at - renewal_margin(t).count();
}

std::string encode_client_token(const ClientToken& t) {
  Json o = json_object();
  json_set_string(o.get(), "access_token", t.access_token);
  json_set_string(o.get(), "scope", t.scope);
  json_set_number(o.get(), "obtained_at", static_cast<double>(t.obtained_at));
  json_set_number(o.get(), "expires_at", static_cast<double>(t.expires_at));
  return json_print(o.get());
}

std::optional<ClientToken> decode_client_token(std::string_view json) {
  auto o = json_parse_object(json);
  if (!o.ok()) return std::nullopt;
  ClientToken t;
  auto access = json_string(o->get(), "access_token");
  if (!access || access->empty()) return std::nullopt;
  t.access_token = std::move(*access);
  t.scope = json_string(o->get(), "scope").value_or("");
  t.obtained_at = json_integer(o->get(), "obtained_at").value_or(0);
  t.expires_at = json_integer(o->get(), "expires_at").value_or(0);
  if (t.expires_at <= 0 || t.obtained_at <= 0) return std::nullopt;
  return t;
}

Result<ClientToken> request_client_token(HttpClient& http, const ClientConfig& client, long long now_ms,
                                         const PrepareRequest& prepare) {
  Params form = {{"grant_type", "client_credentials"}};
  if (!client.scope.empty()) form.emplace_back("scope", join_scopes(client.scope));
  HttpRequest request =
      client_form_post(client.token_url, std::move(form), client.client_id, client.client_secret,
                       client.auth_method == ClientAuthMethod::client_secret_basic);
  if (prepare) prepare(request);
  auto answer = http.send(request);
  if (!answer.ok())
    return make_error(answer.error().kind, label(client) + " token endpoint: " + answer.error().reason);
  // The flow's parser, as for a generic oauth2 provider; with now = 0 its expires_at
  // is the answer's expires_in.
  Provider p;
  p.name = label(client);
  p.scope = client.scope;
  auto tokens = parse_token_response(p, *answer, 0, "token endpoint");
  if (!tokens.ok()) {
    Error e = tokens.error();
    e.reason = redact_values(std::move(e.reason), {client.client_secret});
    return e;
  }
  ClientToken t;
  t.access_token = std::move(tokens->access_token);
  t.scope = std::move(tokens->scope);
  t.obtained_at = now_ms; // asked for then: the server's clock started no sooner
  long long lifetime_ms =
      tokens->expires_at > 0 ? tokens->expires_at * 1000LL : ms(kAssumedTokenLifetime).count();
  t.expires_at = now_ms + lifetime_ms;
  return t;
}

// ---- MemoryTokenCache ------------------------------------------------------------------

MemoryTokenCache::MemoryTokenCache(ms wait, const Clock& clock) : wait_(wait), clock_(clock) {}

Result<ClientToken> MemoryTokenCache::get(std::string_view rejected, const TokenRequest& request) {
  std::unique_lock<std::mutex> lock(mu_);
  // The condition variable waits in real time, so its deadline is the system clock's.
  const auto deadline = system_clock().steady() + wait_;
  for (;;) {
    if (token_ && token_->access_token != rejected && !needs_renewal(*token_, clock_.now_ms()))
      return *token_;
    if (renewing_) {
      if (!done_.wait_until(lock, deadline, [&] { return !renewing_; }))
        return still_renewing("another thread", wait_);
      // Another thread's renewal ended while we waited: its outcome is ours.
      if (failure_) return *failure_;
      if (token_ && !needs_renewal(*token_, clock_.now_ms())) return *token_;
      continue;
    }
    renewing_ = true;
    lock.unlock();
    Result<ClientToken> fresh = make_error(ErrorKind::internal, "the token request failed unexpectedly");
    try {
      fresh = request({});
    } catch (...) {
      // Keep going: the waiters must be woken whatever happened.
    }
    lock.lock();
    renewing_ = false;
    if (fresh.ok()) {
      token_ = *fresh;
      failure_.reset();
    } else {
      failure_ = fresh.error();
    }
    done_.notify_all();
    return fresh;
  }
}

// ---- RedisTokenCache -------------------------------------------------------------------

RedisTokenCache::RedisTokenCache(Store& store, const Keys& keys, const ClientConfig& client,
                                 const LockTiming& timing, const Clock& clock, const Random& random)
    : store_(store), keys_(keys), timing_(timing), clock_(clock), random_(random) {
  ClientTokenKeys names = client_token_keys(keys_, client);
  token_key_ = std::move(names.token);
  lock_key_ = std::move(names.lock);
  error_key_ = std::move(names.error);
}

Result<std::optional<ClientToken>> RedisTokenCache::read() {
  // Sealed under another secret, or damaged: as good as absent; a renewal replaces it.
  auto found = get_sealed(store_, keys_, token_key_);
  if (!found.ok()) return found.error();
  if (!found->has_value()) return std::optional<ClientToken>();
  return decode_client_token(**found);
}

void RedisTokenCache::store_token(const ClientToken& t) {
  long long left = t.expires_at - clock_.now_ms();
  if (left <= 0) return;
  // A failed write only costs the others a token request of their own.
  (void)put_sealed(store_, keys_, token_key_, encode_client_token(t), ms(left));
}

void RedisTokenCache::store_failure(const std::string& owner, const Error& e) {
  (void)put_sealed(store_, keys_, error_key_, encode_failure(owner, e), timing_.lease);
}

// The failure of a renewal one of `holders` made, if it left one.
std::optional<Error> RedisTokenCache::failure_of(const std::vector<std::string>& holders) {
  auto found = get_sealed(store_, keys_, error_key_);
  if (!found.ok() || !found->has_value()) return std::nullopt;
  auto o = json_parse_object(**found);
  if (!o.ok()) return std::nullopt;
  auto owner = json_string(o->get(), "owner");
  auto reason = json_string(o->get(), "reason");
  long long kind = json_integer(o->get(), "kind").value_or(0);
  if (!owner || !reason || std::find(holders.begin(), holders.end(), *owner) == holders.end())
    return std::nullopt;
  if (kind < 0 || kind > static_cast<int>(ErrorKind::internal))
    kind = static_cast<int>(ErrorKind::provider_error);
  return make_error(static_cast<ErrorKind>(kind), *reason);
}

Result<ClientToken> RedisTokenCache::get(std::string_view rejected, const TokenRequest& request) {
  const auto deadline = clock_.steady() + timing_.wait;
  auto cached = read();
  for (;;) {
    if (!cached.ok()) return cached.error();
    auto& t = *cached;
    if (t && t->access_token != rejected && !needs_renewal(*t, clock_.now_ms())) return *t;
    StoreLock lock(store_, lock_key_, kTokenOwner, timing_, clock_, random_);
    auto got = lock.try_acquire();
    if (!got.ok()) return got.error();
    if (*got) {
      // Another process may have renewed between our read and the lock.
      auto again = read();
      if (!again.ok()) return again.error();
      if (auto& a = *again; a && a->access_token != rejected && !needs_renewal(*a, clock_.now_ms()))
        return *a;
      auto fresh = request([heartbeat = lock.heartbeat()](HttpRequest& r) { keep_alive(r, heartbeat); });
      if (!fresh.ok()) {
        store_failure(lock.owner(), fresh.error());
        return fresh.error();
      }
      store_token(*fresh);
      return fresh; // the lock goes after the write, so waiters find the token
    }
    auto released = wait_for_release(store_, lock_key_, deadline, timing_.poll, clock_);
    if (!released.ok()) return released.error();
    if (!released->released) return still_renewing("another process", timing_.wait);
    cached = read(); // what the loop looks at next, should nobody have renewed
    if (!cached.ok()) return cached.error();
    // Someone renewed while we waited: its outcome is ours.
    if (auto& a = *cached; a && !needs_renewal(*a, clock_.now_ms())) return *a;
    if (auto failed = failure_of(released->holders)) return *failed;
    // Nobody held it by the time we looked, or its owner vanished: try ourselves.
    if (clock_.steady() >= deadline) return still_renewing("another process", timing_.wait);
  }
}

// ---- TokenClient -----------------------------------------------------------------------

TokenClient::TokenClient(const ClientConfig& client, HttpClient& http, ClientTokenCache& cache,
                         const Log* log, const Clock& clock)
    : client_(client), http_(http), cache_(cache), log_(log), clock_(clock) {}

Result<ClientToken> TokenClient::obtain(std::string_view rejected) {
  return cache_.get(rejected, [&](const PrepareRequest& prepare) {
    auto t = request_client_token(http_, client_, clock_.now_ms(), prepare);
    if (log_) {
      if (t.ok()) {
        log_->info("client_token_obtained",
                   {{"client", client_.name},
                    {"lifetime_s", std::to_string((t->expires_at - t->obtained_at) / 1000)}});
      } else {
        log_->warn("client_token_failed", {{"client", client_.name}, {"reason", t.error().reason}});
      }
    }
    return t;
  });
}

Result<ClientToken> TokenClient::token() {
  return obtain("");
}

Result<FetchResult> TokenClient::fetch(HttpRequest request, FetchStep* failed_at) {
  auto fail = [&](FetchStep step, Error e) {
    if (failed_at) *failed_at = step;
    return e;
  };
  request.headers.erase(
      std::remove_if(request.headers.begin(), request.headers.end(),
                     [](const Header& h) { return ascii_lowercase(h.first) == "authorization"; }),
      request.headers.end());
  auto t = obtain("");
  if (!t.ok()) return fail(FetchStep::token, t.error());
  for (bool retry = false;; retry = true) {
    HttpRequest r = request;
    r.headers.emplace_back("Authorization", "Bearer " + t->access_token);
    auto answer = http_.send(r);
    if (!answer.ok()) return fail(FetchStep::resource, answer.error());
    if (answer->status != 401 || retry) return FetchResult{std::move(answer.value()), t->access_token, retry};
    // Revoked, expired early, or a key rotated at the server: a new token, one more try.
    if (log_)
      log_->info("client_token_refused", {{"client", client_.name}, {"url", redact_url(request.url)}});
    t = obtain(t->access_token);
    if (!t.ok()) return fail(FetchStep::token, t.error());
  }
}

} // namespace oauthfcgi
