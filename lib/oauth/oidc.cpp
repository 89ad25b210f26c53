// OpenID Connect: discovery and JWKS (cached in Redis), ID token checks (oidc.hpp).
#include "oidc.hpp"

#include <algorithm>
#include <iterator>

#include "crypto.hpp"
#include "flow.hpp"
#include "jose.hpp"
#include "store_keys.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

// What we can verify; intersected with what the server says it signs with.
const std::vector<std::string> kSupportedAlgs = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                                 "PS512", "ES256", "ES384", "ES512", "EdDSA"};

Error oidc_error(const Provider& p, const std::string& why) {
  return make_error(ErrorKind::provider_error, p.name + " " + why);
}

// Whether url names a loopback host (any scheme parse_url takes).
bool on_loopback(const std::string& url) {
  auto parts = parse_url(url);
  return parts.ok() && is_loopback_host(parts->host);
}

// https://; http:// only on loopback, and only for an issuer on loopback itself (tests,
// a server on this host): a remote issuer naming http://127.0.0.1 would have us send the
// code and the client secret in clear to whatever listens on this host.
bool acceptable_endpoint(const std::string& url, bool issuer_on_loopback) {
  auto parts = parse_url(url);
  if (!parts.ok() || url.find('#') != std::string::npos) return false;
  if (parts->scheme == "https") return true;
  return parts->scheme == "http" && issuer_on_loopback && is_loopback_host(parts->host);
}

std::vector<std::string> string_array(const cJSON* o, const char* key) {
  std::vector<std::string> out;
  const cJSON* a = cJSON_GetObjectItemCaseSensitive(o, key);
  const cJSON* item = nullptr;
  if (cJSON_IsArray(a)) {
    cJSON_ArrayForEach(item, a) {
      if (cJSON_IsString(item)) out.emplace_back(item->valuestring);
    }
  }
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

// A document as cached_get found it.
struct Fetched {
  std::string text;
  bool from_cache = false; // read from Redis, not over HTTP
  bool stored = false;     // fetched over HTTP and written to Redis with the TTL
};

// A cached document, or a fresh one (then cached). The Redis copy is sealed like a
// session: one that does not open (written by someone else, or before sealing) is
// fetched again and overwritten. Caching is best effort: with Redis away the request
// fails elsewhere with 503 anyway; a document too large to store is just not cached.
Result<Fetched> cached_get(const Provider& p, Store& store, const Keys& keys, HttpClient& http,
                           const std::string& key, const std::string& url, std::chrono::seconds ttl,
                           bool fresh, std::string_view what) {
  if (!fresh) {
    auto cached = get_sealed(store, keys, key);
    if (!cached.ok()) return cached.error();
    if (cached->has_value()) return Fetched{std::move(**cached), true, false};
  }
  auto response = http.send(http_get(url, {{"Accept", "application/json"}}));
  if (!response.ok()) return response.error();
  auto json = json_answer(p, *response, what);
  if (!json.ok()) return json.error();
  bool stored = put_sealed(store, keys, key, response->body, ttl).ok();
  return Fetched{std::move(response->body), false, stored};
}

Result<JwkSet> load_jwks(const Provider& p, Store& store, const Keys& keys, HttpClient& http, bool fresh) {
  auto got = cached_get(p, store, keys, http, jwks_key(p.jwks_uri), p.jwks_uri, kJwksTtl, fresh, "jwks_uri");
  if (!got.ok()) return got.error();
  auto set = JwkSet::parse(got->text);
  if (!set.ok()) {
    (void)store.remove(jwks_key(p.jwks_uri));
    return oidc_error(p, "JWKS: " + set.error().reason);
  }
  return set;
}

std::optional<std::string> claim_string(const cJSON* claims, const char* name) {
  return json_string(claims, name);
}

// The endpoints a discovery document gives, in Discovery::endpoints order.
struct DiscoveredEndpoint {
  const char* key;
  std::string Provider::*field;
  bool required;
};
constexpr DiscoveredEndpoint kEndpoints[] = {{"authorization_endpoint", &Provider::authorize_url, true},
                                             {"token_endpoint", &Provider::token_url, true},
                                             {"jwks_uri", &Provider::jwks_uri, true},
                                             {"userinfo_endpoint", &Provider::userinfo_url, false},
                                             {"revocation_endpoint", &Provider::revoke_url, false}};
constexpr std::size_t kEndpointCount = std::size(kEndpoints);

} // namespace

// What apply() needs of a document, read out of its JSON once: a cached copy is
// applied without parsing it again.
struct Discovery {
  struct Url {
    std::optional<std::string> url;
    bool acceptable = false; // acceptable_endpoint(url, issuer on loopback)
  };
  std::optional<std::string> issuer;
  Url endpoints[kEndpointCount]; // acceptable for the document's issuer
  std::vector<std::string> response_types, auth_methods;
  std::vector<std::string> id_token_algs; // those of kSupportedAlgs it signs with
  bool iss_parameter_supported = false;
};

namespace {

Discovery read_discovery(const cJSON* d) {
  Discovery doc;
  doc.issuer = json_string(d, "issuer");
  // apply() takes the document only when its issuer is the provider's exactly.
  const bool loopback_issuer = doc.issuer && on_loopback(*doc.issuer);
  for (std::size_t i = 0; i < kEndpointCount; ++i) {
    doc.endpoints[i].url = json_string(d, kEndpoints[i].key);
    doc.endpoints[i].acceptable =
        doc.endpoints[i].url && acceptable_endpoint(*doc.endpoints[i].url, loopback_issuer);
  }
  doc.response_types = string_array(d, "response_types_supported");
  // Core 3.1.3.7: RS256 is the default when the server doesn't say.
  auto algs = string_array(d, "id_token_signing_alg_values_supported");
  if (algs.empty()) algs = {"RS256"};
  for (const auto& a : algs)
    if (contains(kSupportedAlgs, a)) doc.id_token_algs.push_back(a);
  doc.auth_methods = string_array(d, "token_endpoint_auth_methods_supported");
  doc.iss_parameter_supported =
      json_bool(d, "authorization_response_iss_parameter_supported").value_or(false);
  return doc;
}

// Checks everything first, then writes: a refused document leaves p as it was.
Result<void> apply(Provider& p, const Discovery& d) {
  // Discovery 4.3: the document's issuer is exactly the one we asked about.
  if (!d.issuer || *d.issuer != p.issuer)
    return oidc_error(p, "discovery document names another issuer (\"" +
                             printable_excerpt(d.issuer.value_or(""), 100) + "\", expected \"" + p.issuer +
                             "\")");
  const std::string* urls[kEndpointCount] = {};
  for (std::size_t i = 0; i < kEndpointCount; ++i) {
    const DiscoveredEndpoint& e = kEndpoints[i];
    const Discovery::Url& u = d.endpoints[i];
    if (!u.url) {
      if (e.required && (p.*e.field).empty())
        return oidc_error(p, std::string("discovery document lacks ") + e.key);
      continue;
    }
    if (!u.acceptable)
      return oidc_error(p, std::string("discovery document's ") + e.key +
                               " is not https:// (http:// only on loopback, for an issuer on loopback)");
    urls[i] = &*u.url;
  }
  if (!d.response_types.empty() && !contains(d.response_types, "code"))
    return oidc_error(p, "does not support the authorization code flow (response_types_supported)");
  if (d.id_token_algs.empty())
    return oidc_error(p, "signs ID tokens only with algorithms we refuse (none, HS*) or don't know");
  // Discovery 3: client_secret_basic is the default when the list is absent.
  bool basic_auth = d.auth_methods.empty() || contains(d.auth_methods, "client_secret_basic");
  if (!basic_auth && !contains(d.auth_methods, "client_secret_post"))
    return oidc_error(p, "takes neither client_secret_basic nor client_secret_post at its token endpoint");

  for (std::size_t i = 0; i < kEndpointCount; ++i) {
    std::string& field = p.*kEndpoints[i].field;
    if (urls[i] && (field.empty() || kEndpoints[i].field == &Provider::jwks_uri)) field = *urls[i];
  }
  p.iss_parameter_supported = d.iss_parameter_supported;
  p.id_token_algs = d.id_token_algs;
  p.basic_auth = basic_auth;
  return {};
}

} // namespace

DiscoveryCache::DiscoveryCache(std::function<Clock::time_point()> now, std::size_t capacity)
    : now_(std::move(now)), capacity_(capacity) {}

std::shared_ptr<const Discovery> DiscoveryCache::find(const std::string& issuer) {
  const Clock::time_point t = now_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(issuer);
  if (it == entries_.end()) return nullptr;
  if (it->second.until <= t) {
    entries_.erase(it);
    return nullptr;
  }
  return it->second.doc;
}

void DiscoveryCache::put(const std::string& issuer, std::shared_ptr<const Discovery> doc,
                         Clock::time_point until) {
  if (capacity_ == 0) return;
  const Clock::time_point t = now_();
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= capacity_ && !entries_.count(issuer)) {
    for (auto it = entries_.begin(); it != entries_.end();)
      it = it->second.until <= t ? entries_.erase(it) : std::next(it);
    if (entries_.size() >= capacity_)
      entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
        return a.second.until < b.second.until;
      }));
  }
  entries_[issuer] = Entry{std::move(doc), until};
}

void DiscoveryCache::erase(const std::string& issuer) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(issuer);
}

std::size_t DiscoveryCache::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

DiscoveryCache& process_discovery_cache() {
  // Never destroyed: a worker may still be answering while the process exits.
  static DiscoveryCache* cache = new DiscoveryCache();
  return *cache;
}

Result<void> apply_discovery(Provider& p, const cJSON* d) {
  return apply(p, read_discovery(d));
}

Result<void> discover(Provider& p, Store& store, const Keys& keys, HttpClient& http, DiscoveryCache& cache) {
  // Keyed by the issuer, as the Redis key is (whose hash is left for a miss).
  std::shared_ptr<const Discovery> known = cache.find(p.issuer);
  if (known) {
    auto applied = apply(p, *known);
    if (applied.ok()) return applied;
  }
  const std::string key = discovery_key(p.issuer);
  bool fresh = false;
  if (known) {
    // It fit another provider of this issuer, not this one: as a stale Redis copy below.
    cache.erase(p.issuer);
    (void)store.remove(key);
    fresh = true;
  }
  std::string base = p.issuer;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  const std::string url = base + "/.well-known/openid-configuration";
  for (;; fresh = true) {
    const DiscoveryCache::Clock::time_point asked = cache.now();
    auto got = cached_get(p, store, keys, http, key, url, kDiscoveryTtl, fresh, "discovery");
    if (!got.ok()) return got.error();
    auto json = json_parse_object(got->text);
    std::shared_ptr<Discovery> doc;
    if (json.ok()) doc = std::make_shared<Discovery>(read_discovery(json->get()));
    Result<void> applied = doc ? apply(p, *doc) : Result<void>(json.error());
    if (applied.ok()) {
      // Kept in the process no longer than in Redis: the TTL just written, or what is
      // left of the one read (asked again; a copy that vanished meanwhile is not kept).
      if (got->stored) {
        cache.put(p.issuer, std::move(doc), asked + kDiscoveryTtl);
      } else if (got->from_cache) {
        const DiscoveryCache::Clock::time_point before = cache.now();
        auto left = store.ttl(key);
        if (left.ok() && left->has_value() && **left > std::chrono::milliseconds(0))
          cache.put(p.issuer, std::move(doc), before + **left);
      }
      return applied;
    }
    (void)store.remove(key); // never keep a document we refused
    // A cached copy that no longer fits (the config changed) is fetched again, once;
    // a fresh one that fails is the answer.
    if (!got->from_cache) return applied;
  }
}

Result<void> check_id_token_claims(const cJSON* c, const std::string& issuer, const std::string& client_id,
                                   std::string_view nonce, long now) {
  auto refuse = [](const std::string& why) {
    return make_error(ErrorKind::provider_error, "ID token refused: " + why);
  };
  if (claim_string(c, "iss") != std::optional<std::string>(issuer)) return refuse("iss is not the issuer");
  auto sub = claim_string(c, "sub");
  if (!sub || sub->empty()) return refuse("no sub");
  std::vector<std::string> audiences = string_array(c, "aud");
  if (auto single = claim_string(c, "aud")) audiences = {*single};
  if (!contains(audiences, client_id)) return refuse("aud is not this client");
  auto azp = claim_string(c, "azp");
  if (audiences.size() > 1 && !azp) return refuse("several audiences and no azp");
  if (azp && *azp != client_id) return refuse("azp is not this client");
  auto exp = json_number(c, "exp");
  if (!exp) return refuse("no exp");
  if (*exp + kClockSkew <= static_cast<double>(now)) return refuse("expired");
  auto iat = json_number(c, "iat");
  if (!iat) return refuse("no iat");
  if (*iat > static_cast<double>(now + kClockSkew)) return refuse("issued in the future (iat)");
  if (!nonce.empty()) {
    auto got = claim_string(c, "nonce");
    if (!got || !constant_time_equal(*got, nonce)) return refuse("nonce is not the one sent");
  }
  return {};
}

Result<Json> verify_id_token(const Provider& p, Store& store, const Keys& keys, HttpClient& http,
                             std::string_view id_token, std::string_view nonce, long now) {
  if (id_token.empty()) return oidc_error(p, "token endpoint answered without an id_token");
  auto jws = parse_jws(id_token);
  if (!jws.ok()) return oidc_error(p, "ID token refused: " + jws.error().reason);
  auto set = load_jwks(p, store, keys, http, false);
  if (!set.ok()) return set.error();
  if (!set->has_key_for(*jws)) {
    // Key rotation: fetch the JWKS again, at most once per interval for this server.
    auto allowed = store.set_if_absent(jwks_refetch_key(p.jwks_uri), "1", kJwksRefetchInterval);
    if (allowed.ok() && *allowed) {
      set = load_jwks(p, store, keys, http, true);
      if (!set.ok()) return set.error();
    }
  }
  if (auto verified = verify_jws(*jws, *set, p.id_token_algs); !verified.ok())
    return oidc_error(p, "ID token refused: " + verified.error().reason);
  if (auto checked = check_id_token_claims(jws->payload.get(), p.issuer, p.config->client_id, nonce, now);
      !checked.ok())
    return oidc_error(p, checked.error().reason);
  return std::move(jws->payload);
}

Result<Profile> oidc_profile(HttpClient& http, const Provider& p, TokenSet& tokens, const cJSON* claims) {
  auto from_claims = normalize_profile(p, claims);
  if (!from_claims.ok()) return from_claims;
  if (p.userinfo_url.empty()) return from_claims;
  // Core 5.3.2: userinfo's sub must be the ID token's, or it is not this user.
  tokens.subject = from_claims->id;
  auto from_userinfo = fetch_profile(http, p, tokens);
  if (!from_userinfo.ok()) return from_userinfo;
  // Userinfo keeping quiet about the email does not overrule an ID token calling it unverified.
  fill_profile(*from_userinfo, *from_claims);
  return from_userinfo;
}

} // namespace oauthfcgi
