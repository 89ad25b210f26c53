// The cross-key checks, run once the whole file is read: required keys,
// default_provider naming a provider, the rules of each provider type, the
// redis password given once, and the cookie name's __Host- prefix.
#include <algorithm>

#include "config_reader.hpp"
#include "text.hpp"

namespace oauthfcgi::config_detail {

void ConfigReader::check_server() {
  Section* s = find_plain(Sec::server);
  int line = s ? s->line : 0;
  ServerConfig& sv = cfg().server;
  if (!s || !s->has("public_url")) {
    error(line, "missing public_url in [server] (add public_url = https://www.example.com, the origin the "
                "browser sees)");
  }
  if (!s || !s->has("secret_file")) {
    error(line, "missing secret_file in [server] (create one: head -c 64 /dev/urandom > "
                "/etc/oauth-fcgi/secret, then add secret_file = /etc/oauth-fcgi/secret)");
  }
  const auto& providers = cfg().providers;
  if (!sv.default_provider.empty() && !cfg().find_provider(sv.default_provider)) {
    std::string known;
    for (const auto& p : providers)
      known += (known.empty() ? "" : ", ") + p.name;
    error(s ? s->line_of("default_provider") : 0,
          "default_provider \"" + sv.default_provider + "\" names no [provider " + sv.default_provider +
              "] section (" + (known.empty() ? "add that section" : "use one of: " + known) + ")");
  }
}

void ConfigReader::check_redis() {
  Section* s = find_plain(Sec::redis);
  if (!redis_password_file) return;
  if (redis_url_has_password) {
    return error(s ? s->line_of("password_file") : 0,
                 "[redis] password is given both in url and as password_file (keep one: remove the password "
                 "from url, or remove password_file)");
  }
  cfg().redis.password = std::move(*redis_password_file);
}

void ConfigReader::check_session() {
  Section* s = find_plain(Sec::session);
  std::string& name = cfg().session.cookie_name;
  bool host_prefixed = starts_with(name, "__Host-");
  if (cfg().server.public_url_https) {
    if (!host_prefixed) name = "__Host-" + name;
  } else if (host_prefixed || starts_with(name, "__Secure-")) {
    error(s ? s->line_of("cookie_name") : 0,
          "cookie_name \"" + name +
              "\" has a prefix browsers accept only over https (drop the prefix; it is added "
              "by itself when public_url is https://)");
  }
}

// Exactly one of client_secret and client_secret_file.
void ConfigReader::check_client_secret(const Section& s, const std::string& where) {
  if (s.has("client_secret") && s.has("client_secret_file")) {
    error(std::max(s.line_of("client_secret"), s.line_of("client_secret_file")),
          "client_secret is given both inline and as client_secret_file" + where + " (keep one)");
  } else if (!s.has("client_secret") && !s.has("client_secret_file")) {
    error(s.line,
          "missing client_secret" + where + " (add client_secret_file = PATH, or client_secret = ...)");
  }
}

void ConfigReader::check_provider(Section& s) {
  std::string where = " in " + s.label();
  if (!s.has("type")) {
    error(s.line, "missing type" + where + " (add type = github, facebook, google, gitlab, oauth2 or oidc)");
  }
  if (!s.has("client_id"))
    error(s.line, "missing client_id" + where + " (copy it from the provider's app settings)");
  check_client_secret(s, where);
  if (s.type_ok) check_provider_type(s); // type-specific checks need a known type
}

// Keys that only some types take, and what each type needs.
void ConfigReader::check_provider_type(Section& s) {
  ProviderConfig& pc = provider(s);
  std::string where = " in " + s.label();
  std::string type = provider_type_name(pc.type);
  if (s.has("base_url") && pc.type != ProviderType::gitlab) {
    error(s.line_of("base_url"), "base_url applies only to type gitlab, not " + type + " (remove it)");
  }
  bool openid = pc.type == ProviderType::oidc || pc.type == ProviderType::google;
  if (s.has("issuer") && !openid) {
    error(s.line_of("issuer"),
          "issuer applies only to types oidc and google, not " + type +
              (pc.type == ProviderType::gitlab ? " (gitlab uses base_url)" : " (remove it)"));
  }
  if (s.has("offline_access") && !openid && pc.type != ProviderType::gitlab) {
    error(s.line_of("offline_access"),
          "offline_access applies only to types oidc, google and gitlab, not " + type + " (remove it)");
  }
  if (s.has("graph_version") && pc.type != ProviderType::facebook) {
    error(s.line_of("graph_version"),
          "graph_version applies only to type facebook, not " + type + " (remove it)");
  }
  if (pc.type == ProviderType::gitlab && !s.has("base_url")) pc.base_url = "https://gitlab.com";
  if (pc.type == ProviderType::oauth2) {
    for (const char* k : {"authorize_url", "token_url", "userinfo_url"}) {
      if (!s.has(k)) {
        error(s.line, std::string("missing ") + k + where +
                          " (type oauth2 needs authorize_url, token_url and userinfo_url)");
      }
    }
  }
  if (pc.type == ProviderType::oidc && !s.has("issuer")) {
    error(s.line,
          "missing issuer" + where +
              " (type oidc needs issuer = https://..., the URL before /.well-known/openid-configuration)");
  }
}

void ConfigReader::check_client(Section& s) {
  std::string where = " in " + s.label();
  if (!s.has("token_url")) error(s.line, "missing token_url" + where + " (add token_url = https://...)");
  if (!s.has("client_id"))
    error(s.line, "missing client_id" + where + " (copy it from the token server's settings)");
  check_client_secret(s, where);
}

void ConfigReader::finish() {
  for (Section& s : sections_) {
    if (s.sec == Sec::provider) check_provider(s);
    if (s.sec == Sec::client) check_client(s);
  }
  if (cfg().providers.empty() && cfg().clients.empty()) {
    error(0, "no [provider NAME] section (add one, see oauth-fcgi.conf.example)");
  }
  check_server();
  check_redis();
  check_session();
}

} // namespace oauthfcgi::config_detail
