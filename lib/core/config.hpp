// The config file (docs/configuration.md) as typed structs, immutable once loaded
// and passed around as const Config&, and the problems a load found. Loading it:
// lib/config/config_load.hpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace oauthfcgi {

enum class LogLevel { error, warn, info, debug };
enum class LogFormat { text, json };

enum class ProviderType { github, facebook, google, gitlab, oauth2, oidc };
enum class ClientAuthMethod { client_secret_basic, client_secret_post };
enum class TokenCache { redis, memory };

// One allowed_users entry (and a grant's admins): a login or an id, at the provider
// it names; no provider only inside [provider NAME], meaning that one. Parsed by
// parse_user_ref (oauth/access.hpp).
struct UserRef {
  enum class Kind { login, id };
  std::string provider;
  Kind kind = Kind::login;
  std::string value; // a login compares case-insensitively, an id exactly
  int line = 0;      // where it was written, for messages
  bool operator==(const UserRef& o) const {
    return provider == o.provider && kind == o.kind && value == o.value;
  }
};

// One api_allow rule: what oauth-api may call at a provider. A path segment of the
// pattern is a literal, "*" (exactly one segment) or, last, "**" (one or more).
struct ApiRule {
  std::string method;                // "GET", "POST", ...
  std::vector<std::string> segments; // the pattern's segments, without '/'
  std::string text;                  // as written: "GET:/user/repos"
};

// [access] and the same keys inside a [provider NAME] section. Empty = anyone.
struct AccessRules {
  std::vector<std::string> allowed_emails;
  std::vector<std::string> allowed_domains;
  std::vector<UserRef> allowed_users;
  std::vector<std::string> github_orgs;
  bool empty() const {
    return allowed_emails.empty() && allowed_domains.empty() && allowed_users.empty() && github_orgs.empty();
  }
};

struct ServerConfig {
  std::string public_url; // "https://host[:port]", no trailing slash
  bool public_url_https = false;
  std::string route_prefix = "/auth";
  std::string after_login = "/";
  std::string after_logout = "/";
  std::string secret;           // raw bytes from secret_file, >= 32
  std::string default_provider; // empty: a 401 from the check goes to the chooser page
  LogLevel log_level = LogLevel::info;
  LogFormat log_format = LogFormat::text;
  int threads = 8;       // FastCGI workers at start
  int max_threads = 512; // the most the pool grows to while every worker is busy
};

struct RedisConfig {
  std::string url = "redis://127.0.0.1:6379/0";
  // Parsed from url (+ password_file):
  bool unix_socket = false;
  std::string host = "127.0.0.1"; // or the socket path when unix_socket
  int port = 6379;
  int db = 0;
  std::string username; // ACL user, rarely used
  std::string password;
  std::string key_prefix = "oauth:";
  int timeout_ms = 500;
};

struct SessionConfig {
  std::string cookie_name = "oauth_session"; // "__Host-" already prefixed when https
  long ttl = 86400;
  long idle_timeout = 0;
};

struct HttpConfig {
  long connect_timeout_ms = 3000;
  long timeout_ms = 10000;
  long max_response_bytes = 1048576;
  std::string ca_file; // empty = system bundle
};

struct LimitsConfig {
  long max_query_bytes = 8192;
  long max_cookie_bytes = 8192;
  long max_header_bytes = 16384;
  long max_body_bytes = 65536;
};

struct ProviderConfig {
  std::string name; // section name: [provider NAME]
  ProviderType type = ProviderType::oauth2;
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> scope; // empty = the type's default
  bool scope_set = false;
  std::string authorize_url, token_url, userinfo_url, emails_url, revoke_url, debug_token_url;
  std::string issuer;
  std::string base_url;                // gitlab
  std::string graph_version = "v19.0"; // facebook
  bool pkce = true;
  // Ask for a refresh token: google sends access_type=offline and prompt=consent;
  // oidc and gitlab add the offline_access scope.
  bool offline_access = false;
  // oauth2: the server's unmarked email counts for access rules (normalize_profile).
  bool trust_email = false;
  // oauth-api: the base of the provider's API (empty: the type's default, none for
  // oauth2 and oidc) and what may be called there (empty: nothing).
  std::string api_url;
  std::vector<ApiRule> api_allow;
  // oauth-check hands the upstream a live access token (X-Auth-Access-Token).
  bool pass_access_token = false;
  AccessRules access;
  int line = 0; // where the section starts, for messages
};

struct ClientConfig {
  std::string name; // [client NAME]
  std::string token_url, client_id, client_secret;
  std::vector<std::string> scope;
  ClientAuthMethod auth_method = ClientAuthMethod::client_secret_basic;
  TokenCache cache = TokenCache::redis;
  // URL prefixes oauth-fetch may send the token to (url_under_any); empty = any URL.
  std::vector<std::string> allow_urls;
  int line = 0;
};

struct Config {
  std::string path; // the file it was read from
  ServerConfig server;
  RedisConfig redis;
  SessionConfig session;
  HttpConfig http;
  LimitsConfig limits;
  AccessRules access;
  std::vector<ProviderConfig> providers; // in file order
  std::vector<ClientConfig> clients;

  const ProviderConfig* find_provider(std::string_view name) const;
  const ClientConfig* find_client(std::string_view name) const;
};

// One thing wrong with a config: "file:line: reason (fix)". line 0 = the file as a whole.
struct ConfigProblem {
  std::string file;
  int line = 0;
  std::string message; // reason and, in parentheses, the fix
  bool warning = false;
  std::string to_string() const;
};

struct ConfigLoad {
  Config config;                       // meaningful only when ok()
  std::vector<ConfigProblem> problems; // every error found, not only the first
  bool ok() const;
};

} // namespace oauthfcgi
