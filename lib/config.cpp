#include "config.hpp"
#include "text.hpp"

#include "store.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "url.hpp"

#include <sys/stat.h>

namespace oauthfcgi {

namespace {

// Ceilings for what we read from disk: a config or a secret is small.
constexpr size_t kMaxConfigBytes = 1 << 20;
constexpr size_t kMaxSecretBytes = 64 * 1024;
constexpr long kTenYears = 10L * 365 * 24 * 3600;

struct FileClose {
  void operator()(FILE* f) const { fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileClose>;

// Whole file, at most `cap` bytes; on failure `error` holds a strerror-style reason.
struct FileRead {
  bool ok = false;
  bool too_large = false;
  std::string content;
  std::string error;
};

FileRead read_whole_file(const std::string& path, size_t cap) {
  FileRead r;
  FilePtr f(fopen(path.c_str(), "rb"));
  if (!f) {
    r.error = strerror(errno);
    return r;
  }
  char buf[8192];
  while (true) {
    size_t n = fread(buf, 1, sizeof buf, f.get());
    r.content.append(buf, n);
    if (r.content.size() > cap) {
      r.too_large = true;
      r.content.clear();
      return r;
    }
    if (n < sizeof buf) break;
  }
  if (ferror(f.get())) {
    r.error = strerror(errno); // e.g. EISDIR for a folder
    r.content.clear();
    return r;
  }
  r.ok = true;
  return r;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Whole value as a decimal integer, nothing else (no sign games, no trailing junk).
std::optional<long> parse_long(std::string_view v) {
  long out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return out;
}

std::vector<std::string> split_words(std::string_view v, bool commas_too) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < v.size()) {
    auto sep = [&](char c) { return is_space(c) || (commas_too && c == ','); };
    while (i < v.size() && sep(v[i]))
      ++i;
    size_t start = i;
    while (i < v.size() && !sep(v[i]))
      ++i;
    if (i > start) out.emplace_back(v.substr(start, i - start));
  }
  return out;
}

// Levenshtein distance, for "did you mean" on misspelt keys.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

enum class Sec { server, redis, session, http, limits, access, provider, client };

const char* sec_name(Sec s) {
  switch (s) {
  case Sec::server: return "server";
  case Sec::redis: return "redis";
  case Sec::session: return "session";
  case Sec::http: return "http";
  case Sec::limits: return "limits";
  case Sec::access: return "access";
  case Sec::provider: return "provider";
  case Sec::client: return "client";
  }
  return "?";
}

constexpr Sec kAllSections[] = {Sec::server, Sec::redis,  Sec::access,   Sec::session,
                                Sec::http,   Sec::limits, Sec::provider, Sec::client};

// One [section] (repeated plain sections merge into one).
struct Section {
  Sec sec = Sec::server;
  std::string name;                             // provider/client name
  int line = 0;                                 // first header line
  size_t index = 0;                             // into Config::providers / clients
  std::map<std::string, int, std::less<>> keys; // key -> line where it was set
  bool type_ok = false;                         // provider: a valid type was given
  int line_of(std::string_view key) const {
    auto it = keys.find(key);
    return it == keys.end() ? 0 : it->second;
  }
  bool has(std::string_view key) const { return keys.count(key) != 0; }
  std::string label() const {
    return name.empty() ? "[" + std::string(sec_name(sec)) + "]"
                        : "[" + std::string(sec_name(sec)) + " " + name + "]";
  }
};

class Parser;
using Apply = void (*)(Parser&, Section&, std::string_view value, int line);

struct KeyDesc {
  Sec sec;
  const char* key;
  Apply apply;
};

const std::vector<KeyDesc>& key_table();

class Parser {
public:
  Parser(ConfigLoad& out, std::string file, std::string base_dir)
      : out_(out), file_(std::move(file)), base_dir_(std::move(base_dir)) {
    out_.config.path = file_;
  }

  Config& cfg() { return out_.config; }
  ProviderConfig& provider(const Section& s) { return out_.config.providers[s.index]; }
  ClientConfig& client(const Section& s) { return out_.config.clients[s.index]; }

  void error(int line, std::string message) {
    out_.problems.push_back(ConfigProblem{file_, line, std::move(message), false});
  }
  size_t error_count() const { return out_.problems.size(); }
  void warn(int line, std::string message) {
    out_.problems.push_back(ConfigProblem{file_, line, std::move(message), true});
  }

  void parse(std::string_view text);
  void finish();

  // ---- value helpers, used by the key table -------------------------------------

  template <class T>
  void integer(int line, std::string_view key, std::string_view v, long min, long max, T& out) {
    std::string range = "use a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    auto n = parse_long(v);
    if (!n)
      return error(line,
                   std::string(key) + " = \"" + std::string(v) + "\" is not a whole number (" + range + ")");
    if (*n < min || *n > max) {
      return error(line, std::string(key) + " = " + std::to_string(*n) + " is out of range (" + range + ")");
    }
    out = static_cast<T>(*n);
  }

  std::optional<bool> boolean(int line, std::string_view key, std::string_view v) {
    std::string l = ascii_lowercase(v);
    if (l == "true" || l == "yes" || l == "on" || l == "1") return true;
    if (l == "false" || l == "no" || l == "off" || l == "0") return false;
    error(line, std::string(key) + " = \"" + std::string(v) + "\" is not a boolean (use true or false)");
    return std::nullopt;
  }

  std::string resolve(std::string_view path) const {
    if (path.empty() || path[0] == '/' || base_dir_.empty()) return std::string(path);
    return base_dir_ + (base_dir_.back() == '/' ? "" : "/") + std::string(path);
  }

  // Reads a *_file secret. Messages name the key and the path, never the content.
  std::optional<std::string> secret_file(int line, std::string_view key, std::string_view v) {
    if (v.empty()) {
      error(line, std::string(key) + " is empty (give the path of a file holding the secret)");
      return std::nullopt;
    }
    std::string path = resolve(v);
    FileRead r = read_whole_file(path, kMaxSecretBytes);
    if (r.too_large) {
      error(line, std::string(key) + " \"" + path + "\" is larger than " + std::to_string(kMaxSecretBytes) +
                      " bytes (it should hold only the secret)");
      return std::nullopt;
    }
    if (!r.ok) {
      error(line, "cannot read " + std::string(key) + " \"" + path + "\": " + r.error +
                      " (check the path and that this user may read the file)");
      return std::nullopt;
    }
    // head -c 64 /dev/urandom > secret under the usual umask gives mode 0644.
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH)) {
      warn(line, std::string(key) + " \"" + path +
                     "\" is readable by every user of this machine (chmod 0640 it, owned by root and the "
                     "group the programs run as, e.g. chown root:oauth-fcgi)");
    }
    // Editors and `echo` add one newline; drop exactly one.
    std::string& s = r.content;
    if (s.size() >= 2 && s.compare(s.size() - 2, 2, "\r\n") == 0) {
      s.resize(s.size() - 2);
    } else if (!s.empty() && s.back() == '\n') {
      s.pop_back();
    }
    last_secret_path_ = path;
    return std::move(s);
  }
  const std::string& last_secret_path() const { return last_secret_path_; }

  // Endpoint URLs: absolute, https://, or http:// on a loopback host only.
  void endpoint(int line, std::string_view key, std::string_view v, std::string& out) {
    auto parts = parse_url(v);
    if (!parts || v.find('#') != std::string_view::npos) {
      return error(line,
                   std::string(key) + " is not an absolute https:// URL (write it like https://host/path)");
    }
    if (parts->scheme == "http" && !is_loopback_host(parts->host)) {
      return error(line,
                   std::string(key) + " must use https:// (http:// is allowed only on a loopback host)");
    }
    out = std::string(v);
  }

  // Local landing paths: "/x", never "//host" or "/\host" (browsers treat both as another site).
  void local_path(int line, std::string_view key, std::string_view v, std::string& out) {
    bool ok = !v.empty() && v[0] == '/' && !starts_with(v, "//") && !starts_with(v, "/\\");
    for (unsigned char c : v)
      ok = ok && c > 0x20 && c != 0x7f;
    if (!ok) {
      return error(line,
                   std::string(key) + " = \"" + std::string(v) +
                       "\" is not a local path (use a path on this site starting with a single '/', e.g. /)");
    }
    out = std::string(v);
  }

  void access_list(int line, std::string_view key, std::string_view v, std::vector<std::string>& out) {
    std::vector<std::string> words = split_words(v, true);
    bool emails = key == "allowed_emails", domains = key == "allowed_domains";
    for (std::string& w : words) {
      if (emails || domains) w = ascii_lowercase(w);
      if (domains && w[0] == '@') w.erase(0, 1);
      size_t at = w.find('@');
      if (emails && (at == std::string::npos || at == 0 || at + 1 == w.size())) {
        error(line, "allowed_emails entry \"" + w + "\" is not an email address (use name@example.com)");
      } else if (domains && (w.empty() || at != std::string::npos)) {
        error(line, "allowed_domains entry \"" + w + "\" is not a domain (use example.com)");
      }
    }
    out = std::move(words);
  }

  // Redis url with password_file: the file is read when met, the check comes in finish().
  std::optional<std::string> redis_password_file;
  bool redis_url_has_password = false;

private:
  Section* open_section(std::string_view inner, int line);
  void set_key(Section& s, std::string_view key, std::string_view value, int line);
  void check_server();
  void check_redis();
  void check_session();
  void check_provider(Section& s);
  void check_client(Section& s);
  Section* find_plain(Sec sec);

  ConfigLoad& out_;
  std::string file_;
  std::string base_dir_;
  std::vector<Section> sections_;
  std::string last_secret_path_;
};

// ---- the key table: the one list of every key ----------------------------------------

// client_secret and client_secret_file mean the same in [provider NAME] and [client NAME].
void inline_client_secret(Parser& p, std::string_view v, int line, std::string& out) {
  if (v.empty()) return p.error(line, "client_secret is empty (or use client_secret_file = PATH)");
  out = std::string(v);
}

void file_client_secret(Parser& p, std::string_view v, int line, std::string& out) {
  auto secret = p.secret_file(line, "client_secret_file", v);
  if (secret && secret->empty()) {
    return p.error(line,
                   "client_secret_file \"" + p.last_secret_path() + "\" is empty (put the secret in it)");
  }
  if (secret) out = std::move(*secret);
}

bool is_tchar(char c) {
  return is_alnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

template <class E> struct EnumName {
  const char* name;
  E value;
};

template <class E, size_t N>
void enum_value(Parser& p, int line, std::string_view key, std::string_view v, const EnumName<E> (&names)[N],
                E& out) {
  std::string known;
  for (const auto& n : names) {
    if (v == n.name) {
      out = n.value;
      return;
    }
    known += (known.empty() ? "" : ", ") + std::string(n.name);
  }
  p.error(line, std::string(key) + " = \"" + std::string(v) + "\" is not known (use one of: " + known + ")");
}

constexpr EnumName<ProviderType> kProviderTypes[] = {
    {"github", ProviderType::github}, {"facebook", ProviderType::facebook}, {"google", ProviderType::google},
    {"gitlab", ProviderType::gitlab}, {"oauth2", ProviderType::oauth2},     {"oidc", ProviderType::oidc},
};

#define OAUTH_ENDPOINT(field)                                                                                \
  KeyDesc {                                                                                                  \
    Sec::provider, #field, [](Parser& p, Section& s, std::string_view v, int line) {                         \
      p.endpoint(line, #field, v, p.provider(s).field);                                                      \
    }                                                                                                        \
  }
#define OAUTH_ACCESS(sec, field, target)                                                                     \
  KeyDesc {                                                                                                  \
    sec, #field, [](Parser& p, Section& s, std::string_view v, int line) {                                   \
      (void)s;                                                                                               \
      p.access_list(line, #field, v, (target).field);                                                        \
    }                                                                                                        \
  }
#define OAUTH_LIMIT(field)                                                                                   \
  KeyDesc {                                                                                                  \
    Sec::limits, #field, [](Parser& p, Section&, std::string_view v, int line) {                             \
      p.integer(line, #field, v, 1, 1L << 30, p.cfg().limits.field);                                         \
    }                                                                                                        \
  }

const std::vector<KeyDesc>& key_table() {
  static const std::vector<KeyDesc> table = {
      // [server]
      {Sec::server, "public_url",
       [](Parser& p, Section&, std::string_view v, int line) {
         auto parts = parse_url(v);
         if (!parts) {
           return p.error(line, "public_url is not an absolute http:// or https:// URL (write the origin the "
                                "browser sees, e.g. https://www.example.com)");
         }
         if (v.find_first_of("?#@") != std::string_view::npos) {
           return p.error(line, "public_url must be an origin only, without user, query or fragment (e.g. "
                                "https://www.example.com)");
         }
         if (parts->path != "/") {
           return p.error(line, "public_url has a path \"" + parts->path +
                                    "\" (public_url is the origin only; put the path in route_prefix)");
         }
         auto origin = url_origin(v);
         if (!origin) return p.error(line, "public_url is not a valid URL (e.g. https://www.example.com)");
         p.cfg().server.public_url = *origin;
         p.cfg().server.public_url_https = parts->scheme == "https";
         if (parts->scheme == "http" && !is_loopback_host(parts->host)) {
           p.warn(line, "public_url uses http:// on a non-loopback host, so cookies are not Secure (use https:// "
                        "outside development)");
         }
       }},
      {Sec::server, "route_prefix",
       [](Parser& p, Section&, std::string_view v, int line) {
         bool ok = v.size() >= 2 && v[0] == '/' && v.back() != '/' && v.find("//") == std::string_view::npos &&
                   v.find_first_of("?#\\") == std::string_view::npos;
         for (unsigned char c : v) ok = ok && c > 0x20 && c != 0x7f;
         if (!ok) {
           return p.error(line, "route_prefix = \"" + std::string(v) +
                                    "\" is not a path prefix (start with '/', no trailing '/', no '?' or '#', "
                                    "e.g. /auth)");
         }
         p.cfg().server.route_prefix = std::string(v);
       }},
      {Sec::server, "after_login",
       [](Parser& p, Section&, std::string_view v, int line) {
         p.local_path(line, "after_login", v, p.cfg().server.after_login);
       }},
      {Sec::server, "after_logout",
       [](Parser& p, Section&, std::string_view v, int line) {
         p.local_path(line, "after_logout", v, p.cfg().server.after_logout);
       }},
      {Sec::server, "secret_file",
       [](Parser& p, Section&, std::string_view v, int line) {
         auto secret = p.secret_file(line, "secret_file", v);
         if (!secret) return;
         if (secret->size() < 32) {
           // 64 in the hint: dropping a trailing newline byte must still leave >= 32.
           return p.error(line, "secret_file holds " + std::to_string(secret->size()) +
                                    " bytes; at least 32 random bytes are needed (create one: head -c 64 "
                                    "/dev/urandom > " +
                                    p.last_secret_path() + ")");
         }
         p.cfg().server.secret = std::move(*secret);
       }},
      {Sec::server, "default_provider",
       [](Parser& p, Section&, std::string_view v, int) { p.cfg().server.default_provider = std::string(v); }},
      {Sec::server, "log_level",
       [](Parser& p, Section&, std::string_view v, int line) {
         static constexpr EnumName<LogLevel> names[] = {
             {"error", LogLevel::error}, {"warn", LogLevel::warn}, {"info", LogLevel::info}, {"debug", LogLevel::debug}};
         enum_value(p, line, "log_level", v, names, p.cfg().server.log_level);
       }},
      {Sec::server, "log_format",
       [](Parser& p, Section&, std::string_view v, int line) {
         static constexpr EnumName<LogFormat> names[] = {{"text", LogFormat::text}, {"json", LogFormat::json}};
         enum_value(p, line, "log_format", v, names, p.cfg().server.log_format);
       }},
      {Sec::server, "threads",
       [](Parser& p, Section&, std::string_view v, int line) {
         p.integer(line, "threads", v, 1, 256, p.cfg().server.threads);
       }},

      // [redis]
      {Sec::redis, "url",
       [](Parser& p, Section&, std::string_view v, int line) {
         RedisConfig parsed = p.cfg().redis;
         if (auto ok = parse_redis_url(v, parsed); !ok) return p.error(line, "[redis] " + ok.error().reason);
         p.redis_url_has_password = !parsed.password.empty();
         p.cfg().redis = std::move(parsed);
       }},
      {Sec::redis, "password_file",
       [](Parser& p, Section&, std::string_view v, int line) {
         auto secret = p.secret_file(line, "password_file", v);
         if (secret && secret->empty()) {
           return p.error(line, "password_file \"" + p.last_secret_path() + "\" is empty (put the password in it)");
         }
         if (secret) p.redis_password_file = std::move(*secret);
       }},
      {Sec::redis, "key_prefix",
       [](Parser& p, Section&, std::string_view v, int line) {
         if (v.empty()) return p.error(line, "key_prefix is empty (use e.g. oauth:)");
         for (unsigned char c : v) {
           if (c <= 0x20 || c == 0x7f) return p.error(line, "key_prefix holds a space or control character (use e.g. oauth:)");
         }
         p.cfg().redis.key_prefix = std::string(v);
       }},
      {Sec::redis, "timeout_ms",
       [](Parser& p, Section&, std::string_view v, int line) {
         p.integer(line, "timeout_ms", v, 1, 60000, p.cfg().redis.timeout_ms);
       }},

      // [session]
      {Sec::session, "cookie_name",
       [](Parser& p, Section&, std::string_view v, int line) {
         bool ok = !v.empty();
         for (char c : v) ok = ok && is_tchar(c);
         if (!ok) {
           return p.error(line, "cookie_name = \"" + std::string(v) +
                                    "\" is not a cookie name (use letters, digits and - _ . only, e.g. "
                                    "oauth_session)");
         }
         p.cfg().session.cookie_name = std::string(v);
       }},
      {Sec::session, "ttl",
       [](Parser& p, Section&, std::string_view v, int line) {
         p.integer(line, "ttl", v, 1, kTenYears, p.cfg().session.ttl);
       }},
      {Sec::session, "idle_timeout",
       [](Parser& p, Section&, std::string_view v, int line) {
         p.integer(line, "idle_timeout", v, 0, kTenYears, p.cfg().session.idle_timeout);
       }},

      // [http]
      {Sec::http, "connect_timeout_ms",
       [](Parser& p, Section&, std::string_view v, int line) {
         p.integer(line, "connect_timeout_ms", v, 1, 600000, p.cfg().http.connect_timeout_ms);
       }},
      {Sec::http, "timeout_ms",
       [](Parser& p, Section&, std::string_view v, int line) {
         p.integer(line, "timeout_ms", v, 1, 600000, p.cfg().http.timeout_ms);
       }},
      {Sec::http, "max_response_bytes",
       [](Parser& p, Section&, std::string_view v, int line) {
         p.integer(line, "max_response_bytes", v, 1024, 1L << 30, p.cfg().http.max_response_bytes);
       }},
      {Sec::http, "ca_file",
       [](Parser& p, Section&, std::string_view v, int line) {
         if (v.empty()) return; // the system bundle
         std::string path = p.resolve(v);
         // Opened and one byte read: a missing file or a folder fails here, not at the first login.
         FilePtr f(fopen(path.c_str(), "rb"));
         if (!f || (fgetc(f.get()) == EOF && ferror(f.get()))) {
           return p.error(line, "cannot read ca_file \"" + path + "\": " + strerror(errno) +
                                    " (give a readable PEM bundle, or remove the key to use the system one)");
         }
         p.cfg().http.ca_file = path;
       }},

      // [limits]
      OAUTH_LIMIT(max_query_bytes),
      OAUTH_LIMIT(max_cookie_bytes),
      OAUTH_LIMIT(max_header_bytes),
      OAUTH_LIMIT(max_body_bytes),

      // [access]
      OAUTH_ACCESS(Sec::access, allowed_emails, p.cfg().access),
      OAUTH_ACCESS(Sec::access, allowed_domains, p.cfg().access),
      OAUTH_ACCESS(Sec::access, allowed_users, p.cfg().access),
      OAUTH_ACCESS(Sec::access, github_orgs, p.cfg().access),

      // [provider NAME]
      {Sec::provider, "type",
       [](Parser& p, Section& s, std::string_view v, int line) {
         size_t errors = p.error_count();
         enum_value(p, line, "type", v, kProviderTypes, p.provider(s).type);
         s.type_ok = p.error_count() == errors;
       }},
      {Sec::provider, "client_id",
       [](Parser& p, Section& s, std::string_view v, int line) {
         if (v.empty()) return p.error(line, "client_id is empty (copy it from the provider's app settings)");
         p.provider(s).client_id = std::string(v);
       }},
      {Sec::provider, "client_secret",
       [](Parser& p, Section& s, std::string_view v, int line) {
         inline_client_secret(p, v, line, p.provider(s).client_secret);
       }},
      {Sec::provider, "client_secret_file",
       [](Parser& p, Section& s, std::string_view v, int line) {
         file_client_secret(p, v, line, p.provider(s).client_secret);
       }},
      {Sec::provider, "scope",
       [](Parser& p, Section& s, std::string_view v, int) {
         p.provider(s).scope = split_words(v, false);
         p.provider(s).scope_set = true;
       }},
      OAUTH_ENDPOINT(authorize_url),
      OAUTH_ENDPOINT(token_url),
      OAUTH_ENDPOINT(userinfo_url),
      OAUTH_ENDPOINT(emails_url),
      OAUTH_ENDPOINT(revoke_url),
      OAUTH_ENDPOINT(debug_token_url),
      OAUTH_ENDPOINT(issuer),
      {Sec::provider, "base_url",
       [](Parser& p, Section& s, std::string_view v, int line) {
         while (v.size() > 1 && v.back() == '/') v.remove_suffix(1);
         p.endpoint(line, "base_url", v, p.provider(s).base_url);
       }},
      {Sec::provider, "graph_version",
       [](Parser& p, Section& s, std::string_view v, int line) {
         // v<major>.<minor>, e.g. v19.0
         size_t dot = v.find('.');
         bool ok = v.size() >= 4 && v[0] == 'v' && dot != std::string_view::npos && dot > 1 && dot + 1 < v.size();
         for (size_t i = 1; ok && i < v.size(); ++i) ok = i == dot || is_digit(v[i]);
         if (!ok) return p.error(line, "graph_version = \"" + std::string(v) + "\" is not a version (write it like v19.0)");
         p.provider(s).graph_version = std::string(v);
       }},
      {Sec::provider, "pkce",
       [](Parser& p, Section& s, std::string_view v, int line) {
         if (auto b = p.boolean(line, "pkce", v)) p.provider(s).pkce = *b;
       }},
      {Sec::provider, "offline_access",
       [](Parser& p, Section& s, std::string_view v, int line) {
         if (auto b = p.boolean(line, "offline_access", v)) p.provider(s).offline_access = *b;
       }},
      OAUTH_ACCESS(Sec::provider, allowed_emails, p.provider(s).access),
      OAUTH_ACCESS(Sec::provider, allowed_domains, p.provider(s).access),
      OAUTH_ACCESS(Sec::provider, allowed_users, p.provider(s).access),
      OAUTH_ACCESS(Sec::provider, github_orgs, p.provider(s).access),

      // [client NAME]
      {Sec::client, "token_url",
       [](Parser& p, Section& s, std::string_view v, int line) {
         p.endpoint(line, "token_url", v, p.client(s).token_url);
       }},
      {Sec::client, "client_id",
       [](Parser& p, Section& s, std::string_view v, int line) {
         if (v.empty()) return p.error(line, "client_id is empty (copy it from the token server's settings)");
         p.client(s).client_id = std::string(v);
       }},
      {Sec::client, "client_secret",
       [](Parser& p, Section& s, std::string_view v, int line) {
         inline_client_secret(p, v, line, p.client(s).client_secret);
       }},
      {Sec::client, "client_secret_file",
       [](Parser& p, Section& s, std::string_view v, int line) {
         file_client_secret(p, v, line, p.client(s).client_secret);
       }},
      {Sec::client, "scope",
       [](Parser& p, Section& s, std::string_view v, int) { p.client(s).scope = split_words(v, false); }},
      {Sec::client, "auth_method",
       [](Parser& p, Section& s, std::string_view v, int line) {
         static constexpr EnumName<ClientAuthMethod> names[] = {
             {"client_secret_basic", ClientAuthMethod::client_secret_basic},
             {"client_secret_post", ClientAuthMethod::client_secret_post}};
         enum_value(p, line, "auth_method", v, names, p.client(s).auth_method);
       }},
      {Sec::client, "cache",
       [](Parser& p, Section& s, std::string_view v, int line) {
         static constexpr EnumName<TokenCache> names[] = {{"redis", TokenCache::redis},
                                                          {"memory", TokenCache::memory}};
         enum_value(p, line, "cache", v, names, p.client(s).cache);
       }},
  };
  return table;
}

#undef OAUTH_ENDPOINT
#undef OAUTH_ACCESS
#undef OAUTH_LIMIT

const KeyDesc* find_key(Sec sec, std::string_view key) {
  for (const KeyDesc& d : key_table()) {
    if (d.sec == sec && key == d.key) return &d;
  }
  return nullptr;
}

std::string known_keys_of(Sec sec) {
  std::string out;
  for (const KeyDesc& d : key_table()) {
    if (d.sec == sec) out += (out.empty() ? "" : ", ") + std::string(d.key);
  }
  return out;
}

std::string known_sections() {
  std::string out;
  for (Sec s : kAllSections) {
    out += (out.empty() ? "[" : ", [") + std::string(sec_name(s));
    out += (s == Sec::provider || s == Sec::client) ? " NAME]" : "]";
  }
  return out;
}

bool valid_section_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!is_alnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

// ---- the parser ----------------------------------------------------------------------

Section* Parser::find_plain(Sec sec) {
  for (Section& s : sections_) {
    if (s.sec == sec && s.name.empty()) return &s;
  }
  return nullptr;
}

// Returns the section keys now go to, or nullptr when they are to be skipped
// (after a header that was already reported as wrong).
Section* Parser::open_section(std::string_view inner, int line) {
  std::vector<std::string> words = split_words(inner, false);
  if (words.empty()) {
    error(line, "empty section header [] (use one of: " + known_sections() + ")");
    return nullptr;
  }
  const std::string& kind = words[0];
  std::optional<Sec> sec;
  for (Sec s : kAllSections) {
    if (kind == sec_name(s)) sec = s;
  }
  if (!sec) {
    error(line,
          "unknown section [" + std::string(trim(inner)) + "] (known sections: " + known_sections() + ")");
    return nullptr;
  }
  bool named = *sec == Sec::provider || *sec == Sec::client;
  if (!named) {
    if (words.size() > 1) {
      error(line, "[" + kind + "] takes no name (write [" + kind + "])");
      return nullptr;
    }
    if (Section* existing = find_plain(*sec)) return existing; // repeated sections merge
    sections_.push_back(Section{*sec, {}, line, 0, {}, false});
    return &sections_.back();
  }
  if (words.size() < 2) {
    error(line, "[" + kind + "] needs a name (write [" + kind + " NAME], e.g. [" + kind + " github])");
    return nullptr;
  }
  std::string name = std::string(trim(trim(inner).substr(kind.size())));
  if (words.size() > 2 || !valid_section_name(name)) {
    error(line, kind + " name \"" + name +
                    "\" may hold only letters, digits, '_' and '-' (it appears in URLs; e.g. [" + kind +
                    " github])");
    return nullptr;
  }
  for (const Section& s : sections_) {
    if (s.sec == *sec && s.name == name) {
      error(line, "duplicate [" + kind + " " + name + "] (first on line " + std::to_string(s.line) +
                      "; merge them or rename one)");
      return nullptr;
    }
  }
  Section s{*sec, name, line, 0, {}, false};
  if (*sec == Sec::provider) {
    s.index = cfg().providers.size();
    ProviderConfig pc;
    pc.name = name;
    pc.line = line;
    cfg().providers.push_back(std::move(pc));
  } else {
    s.index = cfg().clients.size();
    ClientConfig cc;
    cc.name = name;
    cc.line = line;
    cfg().clients.push_back(std::move(cc));
  }
  sections_.push_back(std::move(s));
  return &sections_.back();
}

void Parser::set_key(Section& s, std::string_view key, std::string_view value, int line) {
  const KeyDesc* d = find_key(s.sec, key);
  if (!d) {
    std::string hint;
    size_t best = 3;
    for (const KeyDesc& k : key_table()) {
      if (k.sec != s.sec) continue;
      size_t dist = edit_distance(key, k.key);
      if (dist < best) {
        best = dist;
        hint = std::string("did you mean \"") + k.key + "\"? ";
      }
    }
    return error(line, "unknown key \"" + std::string(key) + "\" in " + s.label() + " (" + hint +
                           "known keys: " + known_keys_of(s.sec) + ")");
  }
  if (int first = s.line_of(key)) {
    return error(line, "duplicate key \"" + std::string(key) + "\" in " + s.label() +
                           " (already set on line " + std::to_string(first) + "; keep one)");
  }
  s.keys.emplace(std::string(key), line);
  d->apply(*this, s, value, line);
}

void Parser::parse(std::string_view text) {
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3); // a BOM from some editors
  // sections_ holds the Sections; keep an index, not a pointer, across push_backs.
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t current = kNone;
  bool skipping = false; // inside a section already reported as wrong
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line[0] == '[') {
      if (line.back() != ']') {
        error(line_no, "malformed section header (write it alone on its line, like [server])");
        current = kNone;
        skipping = true;
        continue;
      }
      Section* s = open_section(line.substr(1, line.size() - 2), line_no);
      skipping = s == nullptr;
      current = s ? static_cast<size_t>(s - sections_.data()) : kNone;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      // The line is not repeated: it might be a pasted secret.
      error(line_no, "expected \"key = value\" or \"[section]\" (a comment starts with ; or #)");
      continue;
    }
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (key.empty()) {
      error(line_no, "missing key before '=' (write key = value)");
      continue;
    }
    if (skipping) continue;
    if (current == kNone) {
      error(line_no, "key \"" + std::string(key) +
                         "\" is outside any section (put it under one of: " + known_sections() + ")");
      continue;
    }
    set_key(sections_[current], key, value, line_no);
  }
}

void Parser::check_server() {
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

void Parser::check_redis() {
  Section* s = find_plain(Sec::redis);
  if (!redis_password_file) return;
  if (redis_url_has_password) {
    return error(s ? s->line_of("password_file") : 0,
                 "[redis] password is given both in url and as password_file (keep one: remove the password "
                 "from url, or remove password_file)");
  }
  cfg().redis.password = std::move(*redis_password_file);
}

void Parser::check_session() {
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

void Parser::check_provider(Section& s) {
  ProviderConfig& pc = provider(s);
  std::string where = " in " + s.label();
  if (!s.has("type")) {
    error(s.line, "missing type" + where + " (add type = github, facebook, google, gitlab, oauth2 or oidc)");
  }
  if (!s.has("client_id"))
    error(s.line, "missing client_id" + where + " (copy it from the provider's app settings)");
  if (s.has("client_secret") && s.has("client_secret_file")) {
    error(std::max(s.line_of("client_secret"), s.line_of("client_secret_file")),
          "client_secret is given both inline and as client_secret_file" + where + " (keep one)");
  } else if (!s.has("client_secret") && !s.has("client_secret_file")) {
    error(s.line,
          "missing client_secret" + where + " (add client_secret_file = PATH, or client_secret = ...)");
  }
  if (!s.type_ok) return; // type-specific checks need a known type
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

void Parser::check_client(Section& s) {
  std::string where = " in " + s.label();
  if (!s.has("token_url")) error(s.line, "missing token_url" + where + " (add token_url = https://...)");
  if (!s.has("client_id"))
    error(s.line, "missing client_id" + where + " (copy it from the token server's settings)");
  if (s.has("client_secret") && s.has("client_secret_file")) {
    error(std::max(s.line_of("client_secret"), s.line_of("client_secret_file")),
          "client_secret is given both inline and as client_secret_file" + where + " (keep one)");
  } else if (!s.has("client_secret") && !s.has("client_secret_file")) {
    error(s.line,
          "missing client_secret" + where + " (add client_secret_file = PATH, or client_secret = ...)");
  }
}

void Parser::finish() {
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

} // namespace

// ---- public interface -----------------------------------------------------------------

const ProviderConfig* Config::find_provider(std::string_view name) const {
  for (const auto& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const ClientConfig* Config::find_client(std::string_view name) const {
  for (const auto& c : clients) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string ConfigProblem::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (warning) out += "warning: ";
  return out + message;
}

bool ConfigLoad::ok() const {
  for (const auto& p : problems) {
    if (!p.warning) return false;
  }
  return true;
}

ConfigLoad parse_config(std::string_view text, const std::string& file, const std::string& base_dir) {
  ConfigLoad out;
  Parser parser(out, file, base_dir);
  parser.parse(text);
  parser.finish();
  // Checks run in passes; report in file order as a person reads the file.
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
  return out;
}

ConfigLoad load_config(const std::string& path) {
  FileRead r = read_whole_file(path, kMaxConfigBytes);
  if (!r.ok) {
    ConfigLoad out;
    out.config.path = path;
    std::string reason = r.too_large ? "the file is larger than " + std::to_string(kMaxConfigBytes) + " bytes"
                                     : "cannot read the config file: " + r.error;
    out.problems.push_back(
        ConfigProblem{path, 0, reason + " (give the right path with --config or $OAUTH_FCGI_CONFIG)", false});
    return out;
  }
  size_t slash = path.rfind('/');
  std::string base_dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  return parse_config(r.content, path, base_dir);
}

std::string default_config_path() {
  const char* env = getenv("OAUTH_FCGI_CONFIG");
  if (env && *env) return env;
  return "/etc/oauth-fcgi/oauth-fcgi.conf";
}

const std::vector<std::string>& known_config_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (const KeyDesc& d : key_table())
      out.push_back(std::string(sec_name(d.sec)) + "." + d.key);
    return out;
  }();
  return keys;
}

const char* provider_type_name(ProviderType t) {
  for (const auto& n : kProviderTypes) {
    if (n.value == t) return n.name;
  }
  return "oauth2";
}

} // namespace oauthfcgi
