// [redis] url -> RedisConfig (parse_redis_url, store.hpp): used by the config
// parser, so kept apart from the hiredis code of redis_store.cpp.
#include <optional>

#include "store.hpp"
#include "text.hpp"
#include "url.hpp"

namespace oauthfcgi {

namespace {

Error url_error(const std::string& what) {
  // Never quote the url itself: it may carry the password.
  return make_error(ErrorKind::config, "redis url: " + what);
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return ascii_iequals(s.substr(0, prefix.size()), prefix);
}

// A non-negative decimal number no larger than max; nothing else.
std::optional<int> parse_number(std::string_view s, int max) {
  auto v = parse_uint(s, static_cast<unsigned long>(max));
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

constexpr int kMaxDb = 1000000;
constexpr std::string_view kEncodeHint = " (percent-encode '/', '?', '#' and '@' in a password)";

// "[user]:password" of an authority, percent-decoded.
Result<void> parse_userinfo(std::string_view userinfo, RedisConfig& out) {
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos)
    return url_error("put a ':' before the password (redis://:PASSWORD@host or redis://USER:PASSWORD@host)");
  out.username = url_decode(userinfo.substr(0, colon), false);
  out.password = url_decode(userinfo.substr(colon + 1), false);
  if (out.password.empty()) return url_error("empty password after ':' (leave out 'user:@' for none)");
  return {};
}

// unix://[[user]:password@]/path[?db=N], `rest` being what follows "unix://".
Result<void> parse_unix_url(std::string_view rest, RedisConfig& out) {
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 >= rest.size())
    return url_error("unix:// needs an absolute socket path, e.g. unix:///run/redis/redis.sock");
  std::string_view authority = rest.substr(0, slash);
  if (!authority.empty()) {
    auto at = authority.rfind('@');
    if (at == std::string_view::npos || at + 1 != authority.size())
      return url_error("unix:// takes no host: write unix:///path (three slashes)");
    if (auto u = parse_userinfo(authority.substr(0, at), out); !u) return u;
  }
  out.unix_socket = true;
  out.host = url_decode(rest.substr(slash), false);
  out.port = 0;
  bool db_seen = false;
  for (auto& [name, value] : parse_query(query)) {
    if (name != "db") return url_error("unknown parameter '" + name + "' (only ?db=N)");
    if (db_seen) return url_error("db given twice");
    db_seen = true;
    auto db = parse_number(value, kMaxDb);
    if (!db) return url_error("db must be a number from 0");
    out.db = *db;
  }
  return {};
}

// "host[:port]" or "[v6]:port" into host and port (empty when not given).
Result<void> split_host_port(std::string_view rest, std::string_view& host, std::string_view& port) {
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return url_error("unclosed '[' around an IPv6 address");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return url_error("expected ':port' after ']'");
      port = after.substr(1);
      if (port.empty()) return url_error("empty port after ':'");
    }
    return {};
  }
  auto colon = rest.find(':');
  host = rest.substr(0, colon);
  if (colon != std::string_view::npos) {
    port = rest.substr(colon + 1);
    if (port.empty()) return url_error("empty port after ':'");
  }
  return {};
}

// redis://[[user]:password@]host[:port][/db], `rest` being what follows "redis://".
Result<void> parse_tcp_url(std::string_view rest, RedisConfig& out) {
  if (rest.find('?') != std::string_view::npos)
    return url_error("no '?query' allowed after redis://" + std::string(kEncodeHint));
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    if (auto u = parse_userinfo(rest.substr(0, at), out); !u) return u;
    rest = rest.substr(at + 1);
  }
  std::string_view host, port;
  if (auto split = split_host_port(rest, host, port); !split) return split;
  if (host.empty())
    return url_error("missing host, e.g. redis://127.0.0.1:6379/0" + std::string(kEncodeHint));
  out.unix_socket = false;
  out.host = std::string(host);
  out.port = 6379;
  if (!port.empty()) {
    auto p = parse_number(port, 65535);
    if (!p || *p == 0) return url_error("port must be a number from 1 to 65535");
    out.port = *p;
  }
  if (!path.empty()) {
    auto db = parse_number(path, kMaxDb);
    if (!db) return url_error("the path must be a database number, e.g. /0");
    out.db = *db;
  }
  return {};
}

} // namespace

Result<void> parse_redis_url(std::string_view url, RedisConfig& out) {
  out.url = std::string(url);
  out.username.clear();
  out.password.clear();
  out.db = 0;
  if (auto hash = url.find('#'); hash != std::string_view::npos)
    return url_error("no '#fragment' allowed" + std::string(kEncodeHint));
  if (starts_with_nocase(url, "rediss://"))
    return url_error("rediss:// (TLS) is not supported by hiredis 0.14; use redis:// or unix://");
  if (starts_with_nocase(url, "unix://")) return parse_unix_url(url.substr(7), out);
  if (!starts_with_nocase(url, "redis://"))
    return url_error("must start with redis:// or unix://, e.g. redis://127.0.0.1:6379/0");
  return parse_tcp_url(url.substr(8), out);
}

} // namespace oauthfcgi
