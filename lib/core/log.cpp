// Log lines in text or JSON, with secrets redacted, and request ids (log.hpp).
#include "log.hpp"
#include "text.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "clock.hpp"
#include "crypto.hpp"

namespace oauthfcgi {
namespace {

bool is_url_field(std::string_view lname) {
  return lname == "url" || lname == "uri" || lname == "location" || ends_with(lname, "_url") ||
         ends_with(lname, "_uri");
}

const char* level_name(LogLevel level) {
  switch (level) {
  case LogLevel::error: return "error";
  case LogLevel::warn: return "warn";
  case LogLevel::info: return "info";
  case LogLevel::debug: return "debug";
  }
  return "info";
}

std::string timestamp() {
  long long now_ms = system_clock().now_ms();
  auto secs = static_cast<std::time_t>(now_ms / 1000);
  auto ms = now_ms % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

void append_text_value(std::string& out, std::string_view v) {
  bool quote = v.empty() || std::any_of(v.begin(), v.end(), [](unsigned char c) {
                 return c <= ' ' || c == '"' || c == '=' || c == 0x7f;
               });
  if (!quote) {
    out += v;
    return;
  }
  out.push_back('"');
  out += json_escape(v);
  out.push_back('"');
}

std::string safe_value(std::string_view name, std::string_view value) {
  if (is_sensitive_field(name)) return "[redacted]";
  if (is_url_field(ascii_lowercase(name))) return redact_url(value);
  return std::string(value);
}

} // namespace

bool is_sensitive_field(std::string_view name) {
  std::string n = ascii_lowercase(name);
  static constexpr std::array<std::string_view, 12> contains = {
      "token",    "cookie",    "secret", "password",   "passwd", "authorization",
      "verifier", "assertion", "nonce",  "credential", "apikey", "api_key"};
  for (auto word : contains)
    if (n.find(word) != std::string::npos) return true;
  static constexpr std::array<std::string_view, 7> exact = {
      "code", "auth_code", "state", "session", "session_id", "sid", "oauth_state"};
  for (auto word : exact)
    if (n == word) return true;
  return false;
}

std::string redact_url(std::string_view url) {
  // Queries and fragments carry codes, states and tokens; userinfo carries passwords.
  size_t cut = url.find_first_of("?#");
  std::string_view base = url.substr(0, cut);
  std::string out;
  size_t scheme = base.find("://");
  size_t authority_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t authority_end = base.find('/', authority_start);
  std::string_view authority =
      base.substr(authority_start, authority_end == std::string_view::npos ? std::string_view::npos
                                                                           : authority_end - authority_start);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    out.append(base.substr(0, authority_start));
    out.append("[redacted]@");
    out.append(base.substr(authority_start + at + 1));
  } else {
    out.append(base);
  }
  if (cut != std::string_view::npos) out.append(url[cut] == '?' ? "?[redacted]" : "#[redacted]");
  return out;
}

Log::Log(std::string program, LogLevel level, LogFormat format)
    : program_(std::move(program)), level_(level), format_(format) {}

Log Log::with_request_id(std::string request_id) const {
  Log copy = *this;
  copy.request_id_ = std::move(request_id);
  return copy;
}

std::string Log::format_line(LogLevel level, std::string_view event, const LogFields& fields) const {
  std::string out;
  out.reserve(128);
  if (format_ == LogFormat::json) {
    auto add = [&](std::string_view k, std::string_view v) {
      out += ",\"";
      out += json_escape(k);
      out += "\":\"";
      out += json_escape(v);
      out += '"';
    };
    out += "{\"time\":\"" + timestamp() + "\"";
    add("level", level_name(level));
    add("program", program_);
    if (!request_id_.empty()) add("request_id", request_id_);
    add("event", event);
    for (const auto& [k, v] : fields)
      add(k, safe_value(k, v));
    out += '}';
  } else {
    out += timestamp();
    out += ' ';
    out += level_name(level);
    out += ' ';
    out += program_;
    if (!request_id_.empty()) out += " req=" + request_id_;
    out += " event=";
    append_text_value(out, event);
    for (const auto& [k, v] : fields) {
      out += ' ';
      // Keys come from our code, but keep them to a safe alphabet anyway.
      for (char c : k)
        out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_');
      out += '=';
      append_text_value(out, safe_value(k, v));
    }
  }
  return out;
}

void Log::write(LogLevel level, std::string_view event, const LogFields& fields) const {
  if (!enabled(level)) return;
  std::string line = format_line(level, event, fields);
  if (sink_) {
    sink_(sink_ctx_, line);
    return;
  }
  line.push_back('\n');
  // One write() per line so lines from threads and processes don't interleave.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void Log::error(std::string_view event, const LogFields& fields) const {
  write(LogLevel::error, event, fields);
}
void Log::warn(std::string_view event, const LogFields& fields) const {
  write(LogLevel::warn, event, fields);
}
void Log::info(std::string_view event, const LogFields& fields) const {
  write(LogLevel::info, event, fields);
}
void Log::debug(std::string_view event, const LogFields& fields) const {
  write(LogLevel::debug, event, fields);
}

namespace {

// Request ids are for finding a request's lines, not secrets: a random 64-bit base drawn
// once per process, with its low 32 bits clear, plus a process-wide counter. The first 8
// hex digits name the process, the last 8 count its requests; past 2^32 requests the
// count carries into the first half, so ids stay unique in the process. 0 = not drawn
// yet; a forked child draws its own (pthread_atfork), or it would repeat its parent's ids.
std::atomic<std::uint64_t> request_id_base{0};
std::atomic<std::uint64_t> request_count{0};

void forget_request_id_base() {
  request_id_base.store(0, std::memory_order_relaxed);
}

std::uint64_t process_request_id_base() {
  static const bool forked_children_redraw = pthread_atfork(nullptr, nullptr, forget_request_id_base) == 0;
  (void)forked_children_redraw;
  std::uint64_t base = request_id_base.load(std::memory_order_relaxed);
  if (base != 0) return base;
  std::uint64_t drawn = 0;
  while (drawn == 0) {
    std::string r = random_bytes(4);
    for (unsigned char c : r)
      drawn = drawn << 8 | c;
    drawn <<= 32;
  }
  // Threads racing here agree on the first base stored.
  if (request_id_base.compare_exchange_strong(base, drawn, std::memory_order_relaxed)) return drawn;
  return base;
}

} // namespace

std::string new_request_id() {
  std::uint64_t id = process_request_id_base() + request_count.fetch_add(1, std::memory_order_relaxed);
  char bytes[8];
  for (int i = 7; i >= 0; --i, id >>= 8)
    bytes[i] = static_cast<char>(id & 0xff);
  return hex_encode(std::string_view(bytes, sizeof bytes));
}

} // namespace oauthfcgi
