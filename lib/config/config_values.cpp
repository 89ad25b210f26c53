// How a config value is read and checked: numbers, booleans, endpoint URLs,
// local paths, access lists, and the keys whose rules are their own (public_url,
// route_prefix, the redis url, cookie_name, graph_version…).
#include <cstring>

#include "access.hpp"
#include "api_relay.hpp"
#include "config_reader.hpp"
#include "store.hpp"
#include "text.hpp"
#include "url.hpp"

namespace oauthfcgi::config_detail {

namespace {

// RFC 7230 token characters, what a cookie name is made of.
bool is_tchar(char c) {
  return is_ascii_alnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

} // namespace

std::vector<std::string> split_words(std::string_view v, bool commas_too) {
  std::vector<std::string> out;
  auto sep = [&](char c) { return is_ascii_space(c) || (commas_too && c == ','); };
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && sep(v[i]))
      ++i;
    size_t start = i;
    while (i < v.size() && !sep(v[i]))
      ++i;
    if (i > start) out.emplace_back(v.substr(start, i - start));
  }
  return out;
}

std::optional<long> read_integer(ConfigReader& p, const Value& v, long min, long max) {
  std::string key(v.key);
  std::string range = "use a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  auto n = parse_long(v.text);
  if (!n) {
    p.error(v.line, key + " = \"" + std::string(v.text) + "\" is not a whole number (" + range + ")");
    return std::nullopt;
  }
  if (*n < min || *n > max) {
    p.error(v.line, key + " = " + std::to_string(*n) + " is out of range (" + range + ")");
    return std::nullopt;
  }
  return n;
}

std::optional<bool> read_bool(ConfigReader& p, const Value& v) {
  std::string l = ascii_lowercase(v.text);
  if (l == "true" || l == "yes" || l == "on" || l == "1") return true;
  if (l == "false" || l == "no" || l == "off" || l == "0") return false;
  p.error(v.line,
          std::string(v.key) + " = \"" + std::string(v.text) + "\" is not a boolean (use true or false)");
  return std::nullopt;
}

bool check_endpoint(ConfigReader& p, const Value& v) {
  auto parts = parse_url(v.text);
  if (!parts || v.text.find('#') != std::string_view::npos) {
    p.error(v.line,
            std::string(v.key) + " is not an absolute https:// URL (write it like https://host/path)");
    return false;
  }
  if (parts->scheme == "http" && !is_loopback_host(parts->host)) {
    p.error(v.line, std::string(v.key) + " must use https:// (http:// is allowed only on a loopback host)");
    return false;
  }
  return true;
}

// Browsers treat "//host" and "/\host" as another site.
bool check_local_path(ConfigReader& p, const Value& v) {
  std::string_view t = v.text;
  bool ok = !t.empty() && t[0] == '/' && !starts_with(t, "//") && !starts_with(t, "/\\");
  for (unsigned char c : t)
    ok = ok && c > 0x20 && c != 0x7f;
  if (!ok) {
    p.error(v.line,
            std::string(v.key) + " = \"" + std::string(t) +
                "\" is not a local path (use a path on this site starting with a single '/', e.g. /)");
  }
  return ok;
}

std::vector<std::string> read_access_list(ConfigReader& p, const Value& v) {
  std::vector<std::string> words = split_words(v.text, true);
  bool emails = v.key == "allowed_emails", domains = v.key == "allowed_domains";
  for (std::string& w : words) {
    if (emails || domains) w = ascii_lowercase(w);
    if (domains && w[0] == '@') w.erase(0, 1);
    size_t at = w.find('@');
    if (emails && (at == std::string::npos || at == 0 || at + 1 == w.size())) {
      p.error(v.line, "allowed_emails entry \"" + w + "\" is not an email address (use name@example.com)");
    } else if (domains && (w.empty() || at != std::string::npos)) {
      p.error(v.line, "allowed_domains entry \"" + w + "\" is not a domain (use example.com)");
    }
  }
  return words;
}

void report_unknown_choice(ConfigReader& p, const Value& v, const std::string& known) {
  p.error(v.line,
          std::string(v.key) + " = \"" + std::string(v.text) + "\" is not known (use one of: " + known + ")");
}

void public_url(ConfigReader& p, Section&, const Value& v) {
  auto parts = parse_url(v.text);
  if (!parts) {
    return p.error(v.line, "public_url is not an absolute http:// or https:// URL (write the origin the "
                           "browser sees, e.g. https://www.example.com)");
  }
  if (v.text.find_first_of("?#@") != std::string_view::npos) {
    return p.error(v.line, "public_url must be an origin only, without user, query or fragment (e.g. "
                           "https://www.example.com)");
  }
  if (parts->path != "/") {
    return p.error(v.line, "public_url has a path \"" + parts->path +
                               "\" (public_url is the origin only; put the path in route_prefix)");
  }
  auto origin = url_origin(v.text);
  if (!origin) return p.error(v.line, "public_url is not a valid URL (e.g. https://www.example.com)");
  p.cfg().server.public_url = *origin;
  p.cfg().server.public_url_https = parts->scheme == "https";
  if (parts->scheme == "http" && !is_loopback_host(parts->host)) {
    p.warn(v.line, "public_url uses http:// on a non-loopback host, so cookies are not Secure (use https:// "
                   "outside development)");
  }
}

void route_prefix(ConfigReader& p, Section&, const Value& v) {
  std::string_view t = v.text;
  bool ok = t.size() >= 2 && t[0] == '/' && t.back() != '/' && t.find("//") == std::string_view::npos &&
            t.find_first_of("?#\\") == std::string_view::npos;
  for (unsigned char c : t)
    ok = ok && c > 0x20 && c != 0x7f;
  if (!ok) {
    return p.error(v.line, "route_prefix = \"" + std::string(t) +
                               "\" is not a path prefix (start with '/', no trailing '/', no '?' or '#', "
                               "e.g. /auth)");
  }
  p.cfg().server.route_prefix = std::string(t);
}

void redis_url(ConfigReader& p, Section&, const Value& v) {
  RedisConfig parsed = p.cfg().redis;
  if (auto ok = parse_redis_url(v.text, parsed); !ok) return p.error(v.line, "[redis] " + ok.error().reason);
  p.redis_url_has_password = !parsed.password.empty();
  if (p.redis_url_has_password && !p.inline_secret_line) p.inline_secret_line = v.line;
  p.cfg().redis = std::move(parsed);
}

void key_prefix(ConfigReader& p, Section&, const Value& v) {
  if (v.text.empty()) return p.error(v.line, "key_prefix is empty (use e.g. oauth:)");
  for (unsigned char c : v.text) {
    if (c <= 0x20 || c == 0x7f)
      return p.error(v.line, "key_prefix holds a space or control character (use e.g. oauth:)");
  }
  p.cfg().redis.key_prefix = std::string(v.text);
}

void cookie_name(ConfigReader& p, Section&, const Value& v) {
  bool ok = !v.text.empty();
  for (char c : v.text)
    ok = ok && is_tchar(c);
  if (!ok) {
    return p.error(v.line, "cookie_name = \"" + std::string(v.text) +
                               "\" is not a cookie name (use letters, digits and - _ . only, e.g. "
                               "oauth_session)");
  }
  p.cfg().session.cookie_name = std::string(v.text);
}

void provider_client_id(ConfigReader& p, Section& s, const Value& v) {
  if (v.text.empty()) return p.error(v.line, "client_id is empty (copy it from the provider's app settings)");
  p.provider(s).client_id = std::string(v.text);
}

void client_client_id(ConfigReader& p, Section& s, const Value& v) {
  if (v.text.empty()) return p.error(v.line, "client_id is empty (copy it from the token server's settings)");
  p.client(s).client_id = std::string(v.text);
}

void provider_scope(ConfigReader& p, Section& s, const Value& v) {
  p.provider(s).scope = split_words(v.text, false);
  p.provider(s).scope_set = true;
}

namespace {

// A base URL that paths are appended to after exactly one '/': the value without its
// trailing ones.
Value without_trailing_slashes(Value v) {
  while (v.text.size() > 1 && v.text.back() == '/')
    v.text.remove_suffix(1);
  return v;
}

} // namespace

void base_url(ConfigReader& p, Section& s, const Value& v) {
  Value trimmed = without_trailing_slashes(v);
  if (check_endpoint(p, trimmed)) p.provider(s).base_url = std::string(trimmed.text);
}

// v<major>.<minor>, e.g. v19.0
void graph_version(ConfigReader& p, Section& s, const Value& v) {
  std::string_view t = v.text;
  size_t dot = t.find('.');
  bool ok = t.size() >= 4 && t[0] == 'v' && dot != std::string_view::npos && dot > 1 && dot + 1 < t.size();
  for (size_t i = 1; ok && i < t.size(); ++i)
    ok = i == dot || is_ascii_digit(t[i]);
  if (!ok) {
    return p.error(v.line,
                   "graph_version = \"" + std::string(t) + "\" is not a version (write it like v19.0)");
  }
  p.provider(s).graph_version = std::string(t);
}

// Whether an [access] entry's provider exists is known only once every section is
// read: check_access_users.
void allowed_users(ConfigReader& p, Section& s, const Value& v) {
  std::vector<UserRef> refs;
  for (const std::string& w : split_words(v.text, true)) {
    auto ref = parse_user_ref(w);
    if (!ref) {
      p.error(v.line,
              "allowed_users entry \"" + w + "\" is not a user (" + ref.error().reason +
                  (s.sec == Sec::access ? "; write github:alice for a login, github:id:583231 for an id)"
                                        : "; write alice for a login, id:583231 for an id)"));
      continue;
    }
    if (s.sec == Sec::provider && !ref->provider.empty() && ref->provider != s.name) {
      p.error(v.line, "allowed_users entry \"" + w + "\" in " + s.label() + " can only name " + s.name +
                          " (write it without \"" + ref->provider + ":\", or move it to [access])");
      continue;
    }
    ref->line = v.line;
    refs.push_back(std::move(*ref));
  }
  (s.sec == Sec::access ? p.cfg().access : p.provider(s).access).allowed_users = std::move(refs);
}

// Each entry must be a prefix some URL can be under: an origin and a path only.
void allow_urls(ConfigReader& p, Section& s, const Value& v) {
  std::vector<std::string> prefixes = split_words(v.text, false);
  for (const std::string& w : prefixes) {
    auto parts = parse_url(w);
    bool ok = parts && w.find_first_of("?#@") == std::string::npos && url_under_prefix(w, w) &&
              (parts->scheme == "https" || is_loopback_host(parts->host));
    if (!ok) {
      p.error(v.line, "allow_urls entry \"" + w +
                          "\" is not a URL prefix (write an absolute https:// URL, http:// only on loopback, "
                          "without user, query or fragment, e.g. https://api.example.com/v1)");
    }
  }
  p.client(s).allow_urls = std::move(prefixes);
}

// The base of the provider's API: a URL without query, user or fragment; a trailing
// '/' is dropped so that paths are appended after exactly one.
void api_url(ConfigReader& p, Section& s, const Value& v) {
  Value trimmed = without_trailing_slashes(v);
  if (trimmed.text.find_first_of("?@") != std::string_view::npos) {
    p.error(v.line, "api_url is the base of the API, without user, query or fragment "
                    "(e.g. https://api.example.com/v1)");
    return;
  }
  if (check_endpoint(p, trimmed)) p.provider(s).api_url = std::string(trimmed.text);
}

void api_allow(ConfigReader& p, Section& s, const Value& v) {
  std::vector<ApiRule> rules;
  for (const std::string& w : split_words(v.text, false)) {
    auto rule = parse_api_rule(w);
    if (!rule) {
      p.error(v.line, "api_allow entry \"" + w + "\" is not a rule (" + rule.error().reason + ")");
      continue;
    }
    rules.push_back(std::move(*rule));
  }
  p.provider(s).api_allow = std::move(rules);
}

} // namespace oauthfcgi::config_detail
