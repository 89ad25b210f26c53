// The cross-key checks, run once the whole file is read: required keys,
// default_provider naming a provider, the rules of each provider type, the
// redis password given once, and the cookie name's __Host- prefix.
#include <algorithm>

#include "access.hpp"
#include "config_reader.hpp"
#include "provider_types.hpp"
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
    error(s.line, "missing type" + where + " (add type = " + provider_type_names(" or ") + ")");
  }
  if (!s.has("client_id"))
    error(s.line, "missing client_id" + where + " (copy it from the provider's app settings)");
  check_client_secret(s, where);
  if (s.type_ok) check_provider_type(s); // type-specific checks need a known type
}

// Keys that only some types take, and what each type needs: the rules of the type's
// row (provider_types.hpp).
void ConfigReader::check_provider_type(Section& s) {
  ProviderConfig& pc = provider(s);
  const ProviderTypeInfo& type = provider_type(pc.type);
  const TypeConfigRules& rules = type.config;
  for (const std::string& key : type_only_keys()) {
    if (!s.has(key) || takes_config_key(type, key)) continue;
    std::string fix = "remove it";
    for (const auto& [misplaced, instead] : rules.misplaced_fixes)
      if (misplaced == key) fix = instead;
    error(s.line_of(key),
          key + " applies only to " + types_taking(key) + ", not " + type.name + " (" + fix + ")");
  }
  if (!rules.default_base_url.empty() && !s.has("base_url")) pc.base_url = rules.default_base_url;
  for (const std::string& key : rules.required_keys) {
    if (!s.has(key)) error(s.line, "missing " + key + " in " + s.label() + " (" + rules.required_fix + ")");
  }
  if (!rules.has_api_url && s.has("api_allow") && !s.has("api_url"))
    error(s.line_of("api_allow"), std::string("api_allow needs api_url: type ") + type.name +
                                      " has no API of its own to call (add api_url = the API's base, "
                                      "e.g. https://api.example.com/v1)");
}

void ConfigReader::check_client(Section& s) {
  std::string where = " in " + s.label();
  if (!s.has("token_url")) error(s.line, "missing token_url" + where + " (add token_url = https://...)");
  if (!s.has("client_id"))
    error(s.line, "missing client_id" + where + " (copy it from the token server's settings)");
  check_client_secret(s, where);
}

// An [access] entry names a provider of this file; the hint for one that names none
// uses the first provider's name, the likeliest meant.
void ConfigReader::check_access_users() {
  const auto& providers = cfg().providers;
  std::string first = providers.empty() ? "NAME" : providers.front().name;
  std::string known;
  for (const auto& pc : providers)
    known += (known.empty() ? "" : ", ") + pc.name;
  for (const UserRef& ref : cfg().access.allowed_users) {
    std::string text = user_ref_text(ref);
    if (ref.provider.empty()) {
      error(ref.line, "allowed_users entry \"" + text + "\" in [access] names no provider (write " + first +
                          ":" + text +
                          " (or another provider's name), or move it to that [provider NAME] section)");
    } else if (!cfg().find_provider(ref.provider)) {
      error(ref.line, "allowed_users entry \"" + text + "\" names no [provider " + ref.provider + "] (" +
                          (known.empty() ? "add that section" : "use one of: " + known) + ")");
    }
  }
}

// Every user of the machine may read a 0644 config, and with it any secret inside.
void ConfigReader::check_inline_secrets() {
  if (!others_may_read_file || !inline_secret_line) return;
  warn(inline_secret_line, "this file holds a secret inline (client_secret, or a password in [redis] url) "
                           "and is readable by every user of this machine (chmod o-r " +
                               file_ + ", or move the secret to client_secret_file or password_file)");
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
  check_access_users();
  check_inline_secrets();
}

} // namespace oauthfcgi::config_detail

namespace oauthfcgi {

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_ascii_digit(c); });
}

void warn_digit_logins(const Config& config, const std::vector<UserRef>& refs,
                       std::vector<ConfigProblem>& out) {
  for (const UserRef& ref : refs) {
    if (ref.kind != UserRef::Kind::login || !all_digits(ref.value)) continue;
    UserRef as_id = ref;
    as_id.kind = UserRef::Kind::id;
    out.push_back(ConfigProblem{config.path, ref.line,
                                "allowed_users entry \"" + user_ref_text(ref) + "\" matches a login named " +
                                    ref.value + " (write " + user_ref_text(as_id) + " for the user id)",
                                true});
  }
}

} // namespace

std::vector<ConfigProblem> check_config_advice(const Config& config) {
  std::vector<ConfigProblem> out;
  warn_digit_logins(config, config.access.allowed_users, out);
  for (const auto& pc : config.providers)
    warn_digit_logins(config, pc.access.allowed_users, out);
  for (const auto& c : config.clients) {
    if (!c.allow_urls.empty()) continue;
    out.push_back(ConfigProblem{config.path, c.line,
                                "[client " + c.name +
                                    "] has no allow_urls, so oauth-fetch sends its token to any URL it is "
                                    "given (add allow_urls = the API's URL prefix, e.g. "
                                    "https://api.example.com/v1)",
                                true});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
  return out;
}

} // namespace oauthfcgi
