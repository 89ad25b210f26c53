// The key table: the one list of every config key, one row per key naming the
// validator that checks its value and the field it fills.
#include <type_traits>

#include "config_reader.hpp"
#include "provider_types.hpp"

namespace oauthfcgi::config_detail {

namespace {

constexpr long kTenYears = 10L * 365 * 24 * 3600;
constexpr long kGiB = 1L << 30;

template <class E> struct EnumName {
  const char* name;
  E value;
};

constexpr EnumName<LogLevel> kLogLevels[] = {{"error", LogLevel::error},
                                             {"warn", LogLevel::warn},
                                             {"info", LogLevel::info},
                                             {"debug", LogLevel::debug}};
constexpr EnumName<LogFormat> kLogFormats[] = {{"text", LogFormat::text}, {"json", LogFormat::json}};
constexpr EnumName<ClientAuthMethod> kAuthMethods[] = {
    {"client_secret_basic", ClientAuthMethod::client_secret_basic},
    {"client_secret_post", ClientAuthMethod::client_secret_post}};
constexpr EnumName<TokenCache> kTokenCaches[] = {{"redis", TokenCache::redis},
                                                 {"memory", TokenCache::memory}};

// The value among `names`, or a problem listing them.
template <class E, size_t N>
bool choose(ConfigReader& p, const Value& v, const EnumName<E> (&names)[N], E& out) {
  std::string known;
  for (const auto& n : names) {
    if (v.text == n.name) {
      out = n.value;
      return true;
    }
    known += (known.empty() ? "" : ", ") + std::string(n.name);
  }
  report_unknown_choice(p, v, known);
  return false;
}

// ---- the field a row fills: a member pointer, applied to its section's struct ----

template <class M> struct MemberOf;
template <class C, class T> struct MemberOf<T C::*> { using type = C; };

template <class C> C& target(ConfigReader& p, Section& s);
template <> ServerConfig& target(ConfigReader& p, Section&) {
  return p.cfg().server;
}
template <> RedisConfig& target(ConfigReader& p, Section&) {
  return p.cfg().redis;
}
template <> SessionConfig& target(ConfigReader& p, Section&) {
  return p.cfg().session;
}
template <> HttpConfig& target(ConfigReader& p, Section&) {
  return p.cfg().http;
}
template <> LimitsConfig& target(ConfigReader& p, Section&) {
  return p.cfg().limits;
}
template <> ProviderConfig& target(ConfigReader& p, Section& s) {
  return p.provider(s);
}
template <> ClientConfig& target(ConfigReader& p, Section& s) {
  return p.client(s);
}
// [access] and the same keys in [provider NAME].
template <> AccessRules& target(ConfigReader& p, Section& s) {
  return s.sec == Sec::access ? p.cfg().access : p.provider(s).access;
}

template <auto Field> auto& field(ConfigReader& p, Section& s) {
  return target<typename MemberOf<decltype(Field)>::type>(p, s).*Field;
}

// ---- validators shared by many keys ------------------------------------------------

template <auto Field, long Min, long Max> void whole_number(ConfigReader& p, Section& s, const Value& v) {
  auto& out = field<Field>(p, s);
  if (auto n = read_integer(p, v, Min, Max)) out = static_cast<std::remove_reference_t<decltype(out)>>(*n);
}

template <auto Field> void boolean(ConfigReader& p, Section& s, const Value& v) {
  if (auto b = read_bool(p, v)) field<Field>(p, s) = *b;
}

template <auto Field> void https_url(ConfigReader& p, Section& s, const Value& v) {
  if (check_endpoint(p, v)) field<Field>(p, s) = std::string(v.text);
}

template <auto Field> void local_path(ConfigReader& p, Section& s, const Value& v) {
  if (check_local_path(p, v)) field<Field>(p, s) = std::string(v.text);
}

template <auto Field> void access_list(ConfigReader& p, Section& s, const Value& v) {
  field<Field>(p, s) = read_access_list(p, v);
}

template <auto Field> void words(ConfigReader& p, Section& s, const Value& v) {
  field<Field>(p, s) = split_words(v.text, false);
}

template <auto Field> void any_text(ConfigReader& p, Section& s, const Value& v) {
  field<Field>(p, s) = std::string(v.text);
}

template <auto Field, const auto& Names> void one_of(ConfigReader& p, Section& s, const Value& v) {
  choose(p, v, Names, field<Field>(p, s));
}

// The names come from the table of types. Type-specific checks run only after a known type.
void provider_type(ConfigReader& p, Section& s, const Value& v) {
  const ProviderTypeInfo* type = find_provider_type(v.text);
  s.type_ok = type != nullptr;
  if (type)
    p.provider(s).type = type->type;
  else
    report_unknown_choice(p, v, provider_type_names(", "));
}

} // namespace

const std::vector<KeyDesc>& key_table() {
  static const std::vector<KeyDesc> table = {
      {Sec::server, "public_url", public_url},
      {Sec::server, "route_prefix", route_prefix},
      {Sec::server, "after_login", local_path<&ServerConfig::after_login>},
      {Sec::server, "after_logout", local_path<&ServerConfig::after_logout>},
      {Sec::server, "secret_file", secret_file},
      {Sec::server, "default_provider", any_text<&ServerConfig::default_provider>},
      {Sec::server, "log_level", one_of<&ServerConfig::log_level, kLogLevels>},
      {Sec::server, "log_format", one_of<&ServerConfig::log_format, kLogFormats>},
      {Sec::server, "threads", whole_number<&ServerConfig::threads, 1, 256>},
      {Sec::server, "max_threads", whole_number<&ServerConfig::max_threads, 1, 4096>},

      {Sec::redis, "url", redis_url},
      {Sec::redis, "password_file", password_file},
      {Sec::redis, "key_prefix", key_prefix},
      {Sec::redis, "timeout_ms", whole_number<&RedisConfig::timeout_ms, 1, 60000>},

      {Sec::session, "cookie_name", cookie_name},
      {Sec::session, "ttl", whole_number<&SessionConfig::ttl, 1, kTenYears>},
      {Sec::session, "idle_timeout", whole_number<&SessionConfig::idle_timeout, 0, kTenYears>},

      {Sec::http, "connect_timeout_ms", whole_number<&HttpConfig::connect_timeout_ms, 1, 600000>},
      {Sec::http, "timeout_ms", whole_number<&HttpConfig::timeout_ms, 1, 600000>},
      {Sec::http, "max_response_bytes", whole_number<&HttpConfig::max_response_bytes, 1024, kGiB>},
      {Sec::http, "ca_file", ca_file},

      {Sec::limits, "max_query_bytes", whole_number<&LimitsConfig::max_query_bytes, 1, kGiB>},
      {Sec::limits, "max_cookie_bytes", whole_number<&LimitsConfig::max_cookie_bytes, 1, kGiB>},
      {Sec::limits, "max_header_bytes", whole_number<&LimitsConfig::max_header_bytes, 1, kGiB>},
      {Sec::limits, "max_body_bytes", whole_number<&LimitsConfig::max_body_bytes, 1, kGiB>},

      {Sec::access, "allowed_emails", access_list<&AccessRules::allowed_emails>},
      {Sec::access, "allowed_domains", access_list<&AccessRules::allowed_domains>},
      {Sec::access, "allowed_users", allowed_users},
      {Sec::access, "github_orgs", access_list<&AccessRules::github_orgs>},

      {Sec::provider, "type", provider_type},
      {Sec::provider, "client_id", provider_client_id},
      {Sec::provider, "client_secret", client_secret},
      {Sec::provider, "client_secret_file", client_secret_file},
      {Sec::provider, "scope", provider_scope},
      {Sec::provider, "authorize_url", https_url<&ProviderConfig::authorize_url>},
      {Sec::provider, "token_url", https_url<&ProviderConfig::token_url>},
      {Sec::provider, "userinfo_url", https_url<&ProviderConfig::userinfo_url>},
      {Sec::provider, "emails_url", https_url<&ProviderConfig::emails_url>},
      {Sec::provider, "revoke_url", https_url<&ProviderConfig::revoke_url>},
      {Sec::provider, "debug_token_url", https_url<&ProviderConfig::debug_token_url>},
      {Sec::provider, "issuer", https_url<&ProviderConfig::issuer>},
      {Sec::provider, "base_url", base_url},
      {Sec::provider, "graph_version", graph_version},
      {Sec::provider, "pkce", boolean<&ProviderConfig::pkce>},
      {Sec::provider, "offline_access", boolean<&ProviderConfig::offline_access>},
      {Sec::provider, "trust_email", boolean<&ProviderConfig::trust_email>},
      {Sec::provider, "api_url", api_url},
      {Sec::provider, "api_allow", api_allow},
      {Sec::provider, "pass_access_token", boolean<&ProviderConfig::pass_access_token>},
      {Sec::provider, "allowed_emails", access_list<&AccessRules::allowed_emails>},
      {Sec::provider, "allowed_domains", access_list<&AccessRules::allowed_domains>},
      {Sec::provider, "allowed_users", allowed_users},
      {Sec::provider, "github_orgs", access_list<&AccessRules::github_orgs>},

      {Sec::client, "token_url", https_url<&ClientConfig::token_url>},
      {Sec::client, "client_id", client_client_id},
      {Sec::client, "client_secret", client_secret},
      {Sec::client, "client_secret_file", client_secret_file},
      {Sec::client, "scope", words<&ClientConfig::scope>},
      {Sec::client, "auth_method", one_of<&ClientConfig::auth_method, kAuthMethods>},
      {Sec::client, "cache", one_of<&ClientConfig::cache, kTokenCaches>},
      {Sec::client, "allow_urls", allow_urls},
  };
  return table;
}

const KeyDesc* find_key(Sec sec, std::string_view key) {
  for (const KeyDesc& d : key_table()) {
    if (d.sec == sec && key == d.key) return &d;
  }
  return nullptr;
}

} // namespace oauthfcgi::config_detail

namespace oauthfcgi {

const std::vector<std::string>& known_config_keys() {
  using namespace config_detail;
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (const KeyDesc& d : key_table())
      out.push_back(std::string(sec_name(d.sec)) + "." + d.key);
    return out;
  }();
  return keys;
}

} // namespace oauthfcgi
