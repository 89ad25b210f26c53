// Outgoing HTTP over one reused libcurl easy handle. Every limit of [http] is
// applied on each call; callbacks never throw into libcurl; error reasons name the
// host only, because URLs to providers carry codes and tokens in their queries.
#include "http_client.hpp"
#include "c_handle.hpp"
#include "clock.hpp"
#include "text.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>

namespace oauthfcgi {

namespace {

// Total response header bytes we hold per call (all responses, 1xx included).
constexpr size_t kMaxHeaderBytes = 64 * 1024;
// Longest piece of curl's error buffer we pass on.
constexpr size_t kMaxDetail = 200;

using CurlHandle = CHandle<CURL, curl_easy_cleanup>;
using Slist = CHandle<curl_slist, curl_slist_free_all>;

// A header line's text without the blanks around it: curl hands us each line with its
// CRLF, so the end loses CR and LF as well; the front loses only spaces and tabs.
std::string_view trim(std::string_view s) {
  return ascii_trim(s.substr(0, s.find_last_not_of(" \t\r\n") + 1), " \t");
}

// What the callbacks fill in during one call.
struct Transfer {
  size_t max_body = 0;
  bool head = false;
  HttpResponse response;
  size_t header_bytes = 0;
  long last_status = 0; // from the latest status line, to ignore 1xx Content-Length
  bool body_too_large = false;
  bool headers_too_large = false;
  bool callback_failed = false; // an exception (e.g. bad_alloc) inside a callback
};

size_t on_body(char* data, size_t size, size_t nmemb, void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  try {
    size_t n = size * nmemb;
    if (n > t->max_body - t->response.body.size()) {
      t->body_too_large = true;
      return 0; // CURLE_WRITE_ERROR ends the transfer now
    }
    t->response.body.append(data, n);
    return n;
  } catch (...) {
    t->callback_failed = true;
    return 0;
  }
}

// Called once per header line, status lines and the blank line included.
size_t on_header(char* data, size_t size, size_t nmemb, void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  try {
    size_t n = size * nmemb;
    t->header_bytes += n;
    if (t->header_bytes > kMaxHeaderBytes) {
      t->headers_too_large = true;
      return 0;
    }
    std::string_view line(data, n);
    if (line.substr(0, 5) == "HTTP/") {
      // A new response (after 1xx, or a second one on the same transfer): start over.
      t->response.headers.clear();
      t->last_status = 0;
      size_t sp = line.find(' ');
      if (sp != std::string_view::npos) {
        std::string_view code = line.substr(sp + 1, 3);
        long status = 0;
        for (char c : code)
          status = status * 10 + (is_ascii_digit(c) ? c - '0' : 0);
        t->last_status = status;
      }
      return n;
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      // Obsolete line folding: continues the previous header's value.
      if (!t->response.headers.empty()) {
        std::string_view more = trim(line);
        if (!more.empty()) t->response.headers.back().second.append(" ").append(more);
      }
      return n;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n; // the blank line ending the block
    std::string name = ascii_lowercase(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    // Refuse a declared oversized body before it starts arriving (a slow drip
    // would otherwise run until timeout_ms). 1xx, 204, 304 and HEAD carry none.
    if (name == "content-length" && !t->head && t->last_status >= 200 && t->last_status != 204 &&
        t->last_status != 304) {
      unsigned long long declared = 0;
      bool overflow = false;
      for (char c : value) {
        if (!is_ascii_digit(c)) break;
        if (declared > (~0ULL - 9) / 10) overflow = true;
        declared = declared * 10 + static_cast<unsigned>(c - '0');
      }
      if (overflow || declared > t->max_body) {
        t->body_too_large = true;
        return 0;
      }
    }
    t->response.headers.emplace_back(std::move(name), std::string(value));
    return n;
  } catch (...) {
    t->callback_failed = true;
    return 0;
  }
}

// The request's heartbeat, paced by steady time.
struct Heartbeat {
  const HttpRequest* request = nullptr;
  std::chrono::steady_clock::time_point last;
};

int on_progress(void* userp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
  auto* beat = static_cast<Heartbeat*>(userp);
  auto now = system_clock().steady();
  if (now - beat->last < beat->request->heartbeat_every) return 0;
  beat->last = now;
  try {
    beat->request->heartbeat();
  } catch (...) {
    // A missed beat is the caller's to notice (its lease runs out); the call goes on.
  }
  return 0;
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + with.size()))
    s.replace(pos, what.size(), with);
}

// curl's error buffer, made safe to log: nothing of the URL beyond the host, nor
// the credentials, survives.
std::string scrub_detail(std::string detail, const HttpRequest& request, const UrlParts* parts) {
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r'))
    detail.pop_back();
  std::vector<std::string_view> secrets = {request.url, request.basic_user, request.basic_password};
  if (parts) {
    secrets.push_back(parts->query);
    if (parts->path.size() > 1) secrets.push_back(parts->path);
  }
  // Longest first, so a URL is removed whole before its pieces.
  std::sort(secrets.begin(), secrets.end(), [](auto a, auto b) { return a.size() > b.size(); });
  for (std::string_view s : secrets)
    replace_all(detail, s, "[redacted]");
  if (detail.size() > kMaxDetail) detail.resize(kMaxDetail);
  return detail;
}

} // namespace

const std::string* HttpResponse::header(std::string_view name) const {
  return find_header(headers, name);
}

HttpRequest http_get(std::string url, Headers headers) {
  HttpRequest r;
  r.method = "GET";
  r.url = std::move(url);
  r.headers = std::move(headers);
  return r;
}

HttpRequest http_post_form(std::string url, const Params& form, Headers headers) {
  HttpRequest r;
  r.method = "POST";
  r.url = std::move(url);
  bool has_type = std::any_of(headers.begin(), headers.end(),
                              [](const Header& h) { return ascii_iequals(h.first, "Content-Type"); });
  if (!has_type) r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  for (auto& h : headers)
    r.headers.push_back(std::move(h));
  r.body = build_query(form);
  return r;
}

void http_global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlHttpClient::Impl {
  HttpConfig config;
  std::string user_agent;
  CurlHandle curl;
};

CurlHttpClient::CurlHttpClient(const HttpConfig& config, std::string user_agent)
    : impl_(std::make_unique<Impl>()) {
  impl_->config = config;
  impl_->user_agent = std::move(user_agent);
  impl_->curl.reset(curl_easy_init()); // null is reported by send(), not thrown
}

CurlHttpClient::~CurlHttpClient() = default;

namespace {

// The request's headers as curl's list; own_user_agent when the caller set one.
bool build_header_list(const HttpRequest& request, Slist& headers, bool& own_user_agent) {
  auto add_header = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (!next) return false;
    headers.release();
    headers.reset(next);
    return true;
  };
  bool ok = true;
  for (const auto& [name, value] : request.headers) {
    if (ascii_iequals(name, "User-Agent")) own_user_agent = true;
    // "Name:" would tell curl to drop the header; "Name;" sends it empty.
    ok = ok && add_header(value.empty() ? name + ";" : name + ": " + value);
  }
  // No "Expect: 100-continue" round trip before a POST body.
  return ok && add_header("Expect:");
}

// Timeouts, protocols, TLS checks and the size-capped callbacks: what every call has.
void set_common_options(CURL* h, const HttpConfig& cfg, const HttpRequest& request, Transfer& t,
                        char* errbuf) {
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); // worker threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg.timeout_ms);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); // a provider's redirect is its answer
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!cfg.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, cfg.ca_file.c_str());
  // No CURLOPT_ACCEPT_ENCODING: the size cap then bounds exactly what we hold.
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
}

void set_method_and_body(CURL* h, const HttpRequest& request, bool head) {
  const bool post = ascii_iequals(request.method, "POST");
  const bool send_body = !request.body.empty() || post;
  if (post) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
  } else if (head) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (!ascii_iequals(request.method, "GET") || send_body) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (send_body) {
    // Size first, so the body may hold NUL bytes.
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
  }
}

// What went wrong with a finished transfer, or nothing. Reasons name the host, never the URL.
std::optional<Error> transfer_error(CURL* h, CURLcode rc, const Transfer& t, const HttpConfig& cfg,
                                    const HttpRequest& request, const UrlParts& parts, const char* errbuf) {
  const std::string& host = parts.host;
  if (t.body_too_large)
    return make_error(ErrorKind::provider_error,
                      "response from " + host + " larger than " + std::to_string(cfg.max_response_bytes) +
                          " bytes",
                      std::string(kResponseTooLarge));
  if (t.headers_too_large)
    return make_error(ErrorKind::provider_error, "response headers from " + host + " larger than " +
                                                     std::to_string(kMaxHeaderBytes) + " bytes");
  if (t.callback_failed)
    return make_error(ErrorKind::internal, "out of memory reading the response from " + host);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    curl_off_t connect_us = 0;
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
    if (connect_us == 0)
      return make_error(ErrorKind::provider_timeout, host + " did not accept a connection within " +
                                                         std::to_string(cfg.connect_timeout_ms) + " ms");
    return make_error(ErrorKind::provider_timeout,
                      host + " did not answer within " + std::to_string(cfg.timeout_ms) + " ms");
  }
  if (rc != CURLE_OK) {
    std::string reason = host + ": " + curl_easy_strerror(rc);
    std::string detail = scrub_detail(errbuf, request, &parts);
    if (!detail.empty() && detail != curl_easy_strerror(rc)) reason += " (" + detail + ")";
    return make_error(ErrorKind::provider_error, std::move(reason));
  }
  return std::nullopt;
}

} // namespace

Result<HttpResponse> CurlHttpClient::send(const HttpRequest& request) {
  const HttpConfig& cfg = impl_->config;
  Result<UrlParts> parts = parse_url(request.url);
  // The reason never quotes the URL itself: its query may hold a code or token.
  if (!parts) return make_error(ErrorKind::provider_error, "request URL is not an absolute http(s) URL");

  CURL* h = impl_->curl.get();
  if (!h) return make_error(ErrorKind::provider_error, "cannot create a libcurl handle");
  // Reset drops the previous call's options; the connection cache (keep-alive) stays.
  curl_easy_reset(h);

  Transfer t;
  t.max_body = cfg.max_response_bytes > 0 ? static_cast<size_t>(cfg.max_response_bytes) : 0;
  t.head = ascii_iequals(request.method, "HEAD");
  char errbuf[CURL_ERROR_SIZE] = {0};

  Slist headers;
  bool own_user_agent = false;
  if (!build_header_list(request, headers, own_user_agent))
    return make_error(ErrorKind::internal, "out of memory building request headers");
  set_common_options(h, cfg, request, t, errbuf);
  if (!own_user_agent) curl_easy_setopt(h, CURLOPT_USERAGENT, impl_->user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  set_method_and_body(h, request, t.head);

  // RFC 6749 2.3.1: client_id and secret are form-encoded before Basic encoding.
  std::string user, password;
  if (!request.basic_user.empty() && !request.basic_password.empty()) {
    user = url_encode(request.basic_user);
    password = url_encode(request.basic_password);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, password.c_str());
  }

  Heartbeat beat{&request, system_clock().steady()};
  if (request.heartbeat) {
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &beat);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  }

  CURLcode rc = curl_easy_perform(h);
  // Nothing of this call may outlive it inside the reused handle.
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  if (request.heartbeat) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, nullptr);
  }

  if (auto error = transfer_error(h, rc, t, cfg, request, *parts, errbuf)) return std::move(*error);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t.response.status);
  return std::move(t.response);
}

} // namespace oauthfcgi
