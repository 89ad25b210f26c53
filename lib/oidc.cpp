#include "oidc.hpp"

#include "crypto.hpp"
#include "flow.hpp"
#include "jose.hpp"
#include "text.hpp"

namespace oauthfcgi {
namespace {

// What we can verify; intersected with what the server says it signs with.
const std::vector<std::string> kSupportedAlgs = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                                 "PS512", "ES256", "ES384", "ES512", "EdDSA"};

std::string cache_key(std::string_view kind, std::string_view url) {
  return "oidc:" + std::string(kind) + ":" + base64url_encode(sha256(url));
}

Error oidc_error(const Provider& p, const std::string& why) {
  return make_error(ErrorKind::provider_error, p.name + " " + why);
}

// https://, or http:// on loopback (tests, a server on this host): as the config demands.
bool acceptable_endpoint(const std::string& url) {
  auto parts = parse_url(url);
  if (!parts.ok() || url.find('#') != std::string::npos) return false;
  return parts->scheme == "https" || is_loopback_host(parts->host);
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

// A cached document, or a fresh one (then cached). Caching is best effort: with
// Redis away the request fails elsewhere with 503 anyway. *from_cache says which.
Result<std::string> cached_get(const Provider& p, Store& store, HttpClient& http, const std::string& key,
                               const std::string& url, std::chrono::seconds ttl, bool fresh,
                               std::string_view what, bool* from_cache = nullptr) {
  if (from_cache) *from_cache = false;
  if (!fresh) {
    auto cached = store.get(key);
    if (!cached.ok()) return cached.error();
    if (cached->has_value()) {
      if (from_cache) *from_cache = true;
      return std::move(**cached);
    }
  }
  auto response = http.send(http_get(url, {{"Accept", "application/json"}}));
  if (!response.ok()) return response.error();
  auto json = json_answer(p, *response, what);
  if (!json.ok()) return json.error();
  if (response->body.size() <= kMaxStoreValueBytes) (void)store.set(key, response->body, ttl);
  return std::move(response->body);
}

Result<JwkSet> load_jwks(const Provider& p, Store& store, HttpClient& http, bool fresh) {
  auto text =
      cached_get(p, store, http, cache_key("jwks", p.jwks_uri), p.jwks_uri, kJwksTtl, fresh, "jwks_uri");
  if (!text.ok()) return text.error();
  auto set = JwkSet::parse(*text);
  if (!set.ok()) {
    (void)store.remove(cache_key("jwks", p.jwks_uri));
    return oidc_error(p, "JWKS: " + set.error().reason);
  }
  return set;
}

std::optional<std::string> claim_string(const cJSON* claims, const char* name) {
  return json_string(claims, name);
}

} // namespace

Result<void> apply_discovery(Provider& p, const cJSON* d) {
  // Discovery 4.3: the document's issuer is exactly the one we asked about.
  auto issuer = json_string(d, "issuer");
  if (!issuer || *issuer != p.issuer)
    return oidc_error(p, "discovery document names another issuer (\"" +
                             printable_excerpt(issuer.value_or(""), 100) + "\", expected \"" + p.issuer +
                             "\")");
  struct Endpoint {
    const char* key;
    std::string* field;
    bool required;
  } endpoints[] = {{"authorization_endpoint", &p.authorize_url, true},
                   {"token_endpoint", &p.token_url, true},
                   {"jwks_uri", &p.jwks_uri, true},
                   {"userinfo_endpoint", &p.userinfo_url, false},
                   {"revocation_endpoint", &p.revoke_url, false}};
  for (const Endpoint& e : endpoints) {
    auto url = json_string(d, e.key);
    if (!url) {
      if (e.required && e.field->empty())
        return oidc_error(p, std::string("discovery document lacks ") + e.key);
      continue;
    }
    if (!acceptable_endpoint(*url))
      return oidc_error(p, std::string("discovery document's ") + e.key +
                               " is not https:// (http:// only on loopback)");
    if (e.field->empty() || e.field == &p.jwks_uri) *e.field = *url;
  }
  if (auto types = string_array(d, "response_types_supported"); !types.empty() && !contains(types, "code"))
    return oidc_error(p, "does not support the authorization code flow (response_types_supported)");
  p.iss_parameter_supported = json_bool(d, "authorization_response_iss_parameter_supported").value_or(false);
  // Core 3.1.3.7: RS256 is the default when the server doesn't say.
  auto algs = string_array(d, "id_token_signing_alg_values_supported");
  if (algs.empty()) algs = {"RS256"};
  p.id_token_algs.clear();
  for (const auto& a : algs)
    if (contains(kSupportedAlgs, a)) p.id_token_algs.push_back(a);
  if (p.id_token_algs.empty())
    return oidc_error(p, "signs ID tokens only with algorithms we refuse (none, HS*) or don't know");
  // Discovery 3: client_secret_basic is the default when the list is absent.
  auto methods = string_array(d, "token_endpoint_auth_methods_supported");
  if (methods.empty() || contains(methods, "client_secret_basic"))
    p.basic_auth = true;
  else if (contains(methods, "client_secret_post"))
    p.basic_auth = false;
  else
    return oidc_error(p, "takes neither client_secret_basic nor client_secret_post at its token endpoint");
  return {};
}

Result<void> discover(Provider& p, Store& store, HttpClient& http) {
  std::string base = p.issuer;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  const std::string url = base + "/.well-known/openid-configuration";
  const std::string key = cache_key("discovery", p.issuer);
  for (bool fresh : {false, true}) {
    bool from_cache = false;
    auto text = cached_get(p, store, http, key, url, kDiscoveryTtl, fresh, "discovery", &from_cache);
    if (!text.ok()) return text.error();
    auto doc = json_parse_object(*text);
    Result<void> applied = doc.ok() ? apply_discovery(p, doc->get()) : Result<void>(doc.error());
    if (applied.ok()) return applied;
    (void)store.remove(key); // never keep a document we refused
    // A cached copy that no longer fits (the config changed) is fetched again, once;
    // a fresh one that fails is the answer.
    if (!from_cache) return applied;
  }
  return {};
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

Result<Json> verify_id_token(const Provider& p, Store& store, HttpClient& http, std::string_view id_token,
                             std::string_view nonce, long now) {
  if (id_token.empty()) return oidc_error(p, "token endpoint answered without an id_token");
  auto jws = parse_jws(id_token);
  if (!jws.ok()) return oidc_error(p, "ID token refused: " + jws.error().reason);
  auto keys = load_jwks(p, store, http, false);
  if (!keys.ok()) return keys.error();
  if (!keys->has_key_for(*jws)) {
    // Key rotation: fetch the JWKS again, at most once per interval for this server.
    auto allowed = store.set_if_absent(cache_key("jwks_refetch", p.jwks_uri), "1", kJwksRefetchInterval);
    if (allowed.ok() && *allowed) {
      keys = load_jwks(p, store, http, true);
      if (!keys.ok()) return keys.error();
    }
  }
  if (auto verified = verify_jws(*jws, *keys, p.id_token_algs); !verified.ok())
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
  Profile& u = *from_userinfo;
  for (auto [mine, theirs] :
       {std::pair{&u.login, &from_claims->login}, std::pair{&u.name, &from_claims->name},
        std::pair{&u.email, &from_claims->email}, std::pair{&u.avatar_url, &from_claims->avatar_url},
        std::pair{&u.hd, &from_claims->hd}})
    if (!*mine) *mine = *theirs;
  return from_userinfo;
}

} // namespace oauthfcgi
