// URLs through libcurl's CURLU: parsing, query building and percent-encoding (url.hpp).
#include "url.hpp"
#include "c_handle.hpp"
#include "text.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <charconv>
#include <cstring>
#include <memory>

namespace oauthfcgi {

namespace {

using CurlString = CHandle<char, curl_free>;
using CurlUrl = CHandle<CURLU, curl_url_cleanup>;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error bad_url(std::string reason) {
  return make_error(ErrorKind::bad_request, std::move(reason));
}

// One part of a parsed CURLU; std::nullopt when curl has none (e.g. no query).
std::optional<std::string> get_part(CURLU* h, CURLUPart part, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl_url_get(h, part, &raw, flags) != CURLUE_OK || raw == nullptr) return std::nullopt;
  CurlString owned(raw);
  return std::string(owned.get());
}

// Checks the text before handing it to curl, which is more lenient than we want:
// it takes "http:/host" and "http:///path" (host "path"), and C strings stop at NUL.
Result<std::string> prechecked_http_url(std::string_view url) {
  if (url.empty()) return bad_url("empty URL");
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return bad_url("URL contains a space or control character");
  }
  auto colon = url.find(':');
  if (colon == std::string_view::npos) return bad_url("not an absolute URL");
  std::string scheme = ascii_lowercase(url.substr(0, colon));
  if (scheme != "http" && scheme != "https") return bad_url("only http:// and https:// URLs are accepted");
  std::string_view rest = url.substr(colon + 1);
  if (rest.substr(0, 2) != "//") return bad_url("URL must start with " + scheme + "://");
  if (rest.size() == 2 || rest[2] == '/' || rest[2] == '\\') return bad_url("URL has no host");
  return std::string(url);
}

Result<CurlUrl> curl_parse(std::string_view url) {
  auto text = prechecked_http_url(url);
  if (!text) return text.error();
  CurlUrl h(curl_url());
  if (!h) return make_error(ErrorKind::internal, "out of memory");
  // No CURLU_NON_SUPPORT_SCHEME, no CURLU_GUESS_SCHEME: absolute URLs of known schemes only.
  CURLUcode rc = curl_url_set(h.get(), CURLUPART_URL, text->c_str(), 0);
  if (rc != CURLUE_OK) return bad_url(std::string("malformed URL: ") + curl_url_strerror(rc));
  return h;
}

bool is_local_path(std::string_view s) {
  return !s.empty() && s[0] == '/' && (s.size() < 2 || (s[1] != '/' && s[1] != '\\'));
}

// base + query through CURLU: parse, append (APPENDQUERY adds the '&'), reassemble.
// The query is already encoded by build_query, so no CURLU_URLENCODE.
Result<std::string> curl_append_query(std::string_view url, const std::string& query) {
  auto h = curl_parse(url);
  if (!h) return h.error();
  CURLUcode rc = curl_url_set(h->get(), CURLUPART_QUERY, query.c_str(), CURLU_APPENDQUERY);
  if (rc != CURLUE_OK) return bad_url(std::string("cannot add the query: ") + curl_url_strerror(rc));
  auto out = get_part(h->get(), CURLUPART_URL);
  if (!out) return bad_url("malformed URL");
  return *out;
}

// What curl_append_query makes of one absolute URL, learnt once so that later queries
// are spliced in by concatenation (a login URL cost a CURLU parse and reassembly per
// request, a quarter of /connect): curl normalises the base (scheme case, dot
// segments, "127.1", an empty '?'), puts the query before the fragment, and libcurl
// 7.88 lowercases the hex of the escapes it is given ("%3A" -> "%3a") where others may
// not. All three are read off one real CURLU answer for a probe query, so the splice
// gives curl's bytes whatever its version; an answer not shaped as expected leaves
// usable false and every call goes through CURLU.
struct QuerySplice {
  std::string url; // the base, as given
  bool usable = false;
  std::string head; // everything before the query, with its '?' or '&'
  std::string tail; // "#fragment" or ""
  bool lowercase_escapes = false;
};

Result<QuerySplice> make_splice(std::string_view url) {
  constexpr std::string_view probe = "k=%3A";
  auto h = curl_parse(url);
  if (!h) return h.error();
  QuerySplice s;
  s.url = std::string(url);
  auto fragment = get_part(h->get(), CURLUPART_FRAGMENT);
  if (curl_url_set(h->get(), CURLUPART_QUERY, std::string(probe).c_str(), CURLU_APPENDQUERY) != CURLUE_OK)
    return s;
  auto whole = get_part(h->get(), CURLUPART_URL);
  if (!whole) return s;
  s.tail = fragment ? "#" + *fragment : "";
  std::string_view w = *whole;
  if (w.size() < probe.size() + s.tail.size() || w.substr(w.size() - s.tail.size()) != s.tail) return s;
  std::string_view q = w.substr(w.size() - s.tail.size() - probe.size(), probe.size());
  if (q != probe && q != "k=%3a") return s;
  s.lowercase_escapes = q != probe;
  s.head = std::string(w.substr(0, w.size() - s.tail.size() - probe.size()));
  s.usable = true;
  return s;
}

// The splice of each base URL this thread has seen: a handful (the providers'
// endpoints), so a short list; cleared when full rather than grown. Only URLs curl
// accepts are kept.
Result<const QuerySplice*> cached_splice(std::string_view url) {
  static constexpr size_t kMaxSplices = 16;
  thread_local std::vector<QuerySplice> splices;
  for (const QuerySplice& s : splices)
    if (s.url == url) return &s;
  auto made = make_splice(url);
  if (!made) return made.error();
  if (splices.size() >= kMaxSplices) splices.clear();
  splices.push_back(std::move(made.value()));
  return &splices.back();
}

// curl's rule for a part set without CURLU_URLENCODE: "%XX" with an upper-case hex
// digit becomes lower case.
void lowercase_escapes(std::string& s, size_t from) {
  auto lower = [](char c) { return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (size_t i = from; i + 2 < s.size(); ++i) {
    if (s[i] == '%' && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      s[i + 1] = lower(s[i + 1]);
      s[i + 2] = lower(s[i + 2]);
      i += 2;
    }
  }
}

} // namespace

std::string url_encode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  // curl takes an int length, and 0 means strlen: feed it bounded, non-empty chunks.
  constexpr size_t chunk = 1 << 20;
  for (size_t pos = 0; pos < s.size(); pos += chunk) {
    std::string_view piece = s.substr(pos, chunk);
    CurlString enc(curl_easy_escape(nullptr, piece.data(), static_cast<int>(piece.size())));
    if (!enc) return {}; // out of memory: nothing sensible to return
    out += enc.get();
  }
  return out;
}

std::string url_decode(std::string_view s, bool plus_as_space) {
  // By hand: curl_easy_unescape knows nothing of '+' and of keeping bad escapes.
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_as_space && c == '+') ? ' ' : c;
  }
  return out;
}

Params parse_query(std::string_view query) {
  Params out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view seg = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (seg.empty()) continue;
    size_t eq = seg.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(url_decode(seg), std::string());
    } else {
      out.emplace_back(url_decode(seg.substr(0, eq)), url_decode(seg.substr(eq + 1)));
    }
  }
  return out;
}

std::string build_query(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += url_encode(k);
    out += '=';
    out += url_encode(v);
  }
  return out;
}

ParamLookup find_param(const Params& params, std::string_view name) {
  ParamLookup r;
  for (const auto& [k, v] : params) {
    if (k != name) continue;
    if (r.state == ParamState::missing) {
      r.state = ParamState::single;
      r.value = v;
    } else {
      // Two values for one name: callers must refuse rather than guess which one counts.
      r.state = ParamState::duplicated;
      r.value.clear();
      break;
    }
  }
  return r;
}

Result<UrlParts> parse_url(std::string_view url) {
  auto h = curl_parse(url);
  if (!h) return h.error();
  UrlParts parts;
  auto scheme = get_part(h->get(), CURLUPART_SCHEME);
  auto host = get_part(h->get(), CURLUPART_HOST);
  auto port = get_part(h->get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !port) return bad_url("malformed URL");
  parts.scheme = ascii_lowercase(*scheme);
  if (parts.scheme != "http" && parts.scheme != "https")
    return bad_url("only http:// and https:// URLs are accepted");
  std::string_view hv = *host;
  if (hv.size() >= 2 && hv.front() == '[' && hv.back() == ']') hv = hv.substr(1, hv.size() - 2);
  if (hv.empty()) return bad_url("URL has no host");
  parts.host = ascii_lowercase(hv);
  int p = 0;
  auto [end, ec] = std::from_chars(port->data(), port->data() + port->size(), p);
  if (ec != std::errc() || end != port->data() + port->size() || p < 1 || p > 65535) {
    return bad_url("URL has a bad port");
  }
  parts.port = p;
  parts.path = get_part(h->get(), CURLUPART_PATH).value_or("/");
  if (parts.path.empty()) parts.path = "/";
  parts.query = get_part(h->get(), CURLUPART_QUERY).value_or("");
  return parts;
}

Result<std::string> append_query(std::string_view url, const Params& params) {
  std::string query = build_query(params);
  if (is_local_path(url)) {
    // A local path ("/page?x=1#top") has no origin for curl to parse: splice by hand.
    std::string_view base = url, fragment;
    if (auto hash = url.find('#'); hash != std::string_view::npos) {
      base = url.substr(0, hash);
      fragment = url.substr(hash);
    }
    std::string out(base);
    if (!query.empty()) {
      if (out.find('?') == std::string::npos) {
        out += '?';
      } else if (out.back() != '?' && out.back() != '&') {
        out += '&';
      }
      out += query;
    }
    out += fragment;
    return out;
  }
  auto splice = cached_splice(url);
  if (!splice) return splice.error();
  if (query.empty()) return std::string(url);
  const QuerySplice& s = **splice;
  if (!s.usable) return curl_append_query(url, query);
  std::string out;
  out.reserve(s.head.size() + query.size() + s.tail.size());
  out += s.head;
  size_t start = out.size();
  out += query;
  if (s.lowercase_escapes) lowercase_escapes(out, start);
  out += s.tail;
  return out;
}

bool is_loopback_host(std::string_view host) {
  if (ascii_lowercase(host) == "localhost") return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.find(':') != std::string_view::npos) {
    // Any spelling of ::1 ("0:0:0:0:0:0:0:1" too); inet_pton needs a C string.
    std::string text(host);
    in6_addr addr{};
    return inet_pton(AF_INET6, text.c_str(), &addr) == 1 &&
           memcmp(&addr, &in6addr_loopback, sizeof addr) == 0;
  }
  // Only the canonical dotted quad 127.a.b.c. Short, hex and octal forms ("127.1",
  // "0x7f000001", "0177.0.0.1") are refused here; parse_url has curl normalise them.
  int octets = 0;
  while (true) {
    size_t dot = host.find('.');
    std::string_view part = host.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    int v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || end != part.data() + part.size() || v > 255) return false;
    if (octets == 0 && v != 127) return false;
    ++octets;
    if (dot == std::string_view::npos) break;
    host = host.substr(dot + 1);
  }
  return octets == 4;
}

Result<std::string> url_origin(std::string_view url) {
  auto parts = parse_url(url);
  if (!parts) return parts.error();
  std::string out = parts->scheme + "://";
  if (parts->host.find(':') != std::string::npos) {
    out += "[" + parts->host + "]";
  } else {
    out += parts->host;
  }
  int default_port = parts->scheme == "https" ? 443 : 80;
  if (parts->port != default_port) out += ":" + std::to_string(parts->port);
  return out;
}

namespace {

// Encoded dots and slashes (and backslashes) that a server may decode into a path
// step curl did not resolve.
bool path_is_ambiguous(std::string_view path) {
  if (path.find('\\') != std::string_view::npos) return true;
  for (size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] != '%') continue;
    std::string code = ascii_lowercase(path.substr(i + 1, 2));
    if (code == "2e" || code == "2f" || code == "5c") return true;
  }
  return false;
}

} // namespace

bool url_under_prefix(std::string_view url, std::string_view prefix) {
  auto u = parse_url(url);
  auto p = parse_url(prefix);
  if (!u || !p) return false;
  if (u->scheme != p->scheme || u->host != p->host || u->port != p->port) return false;
  if (path_is_ambiguous(u->path) || path_is_ambiguous(p->path)) return false;
  std::string_view base = p->path;
  while (!base.empty() && base.back() == '/')
    base.remove_suffix(1);
  std::string_view path = u->path;
  return starts_with(path, base) && (path.size() == base.size() || path[base.size()] == '/');
}

bool url_under_any(std::string_view url, const std::vector<std::string>& prefixes) {
  for (const auto& prefix : prefixes)
    if (url_under_prefix(url, prefix)) return true;
  return false;
}

} // namespace oauthfcgi
