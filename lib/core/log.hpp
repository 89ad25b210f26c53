// One line per event to stderr, as text or JSON, with the program name and a
// request id. Secrets are redacted at the source: a field whose name says it holds
// a token, code, state, cookie, secret or password is never written, and URL
// fields lose their query.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"

namespace oauthfcgi {

using LogField = std::pair<std::string, std::string>;
using LogFields = std::vector<LogField>;

// True for field names that must never be logged in clear (case-insensitive):
// names containing token, cookie, secret, password, authorization, verifier,
// assertion, nonce, credential or api_key, and exactly code, state, session, sid.
bool is_sensitive_field(std::string_view name);
// "https://h/p?code=x" -> "https://h/p?[redacted]".
std::string redact_url(std::string_view url);

class Log {
public:
  // Writes to stderr unless a sink is given (tests pass one).
  using Sink = void (*)(void* ctx, std::string_view line);
  Log(std::string program, LogLevel level, LogFormat format);
  Log with_request_id(std::string request_id) const;
  void set_sink(Sink sink, void* ctx) {
    sink_ = sink;
    sink_ctx_ = ctx;
  }

  void error(std::string_view event, const LogFields& fields = {}) const;
  void warn(std::string_view event, const LogFields& fields = {}) const;
  void info(std::string_view event, const LogFields& fields = {}) const;
  void debug(std::string_view event, const LogFields& fields = {}) const;
  bool enabled(LogLevel level) const { return level <= level_; }

  // The line that would be written (no trailing newline); exposed for tests.
  std::string format_line(LogLevel level, std::string_view event, const LogFields& fields) const;
  const std::string& request_id() const { return request_id_; }
  const std::string& program() const { return program_; }

private:
  void write(LogLevel level, std::string_view event, const LogFields& fields) const;
  std::string program_;
  LogLevel level_;
  LogFormat format_;
  std::string request_id_;
  Sink sink_ = nullptr;
  void* sink_ctx_ = nullptr;
};

// A short id for a request (16 hex chars), unique in the process: a random per-process
// base plus a counter, so lines of one process share their first 8 hex digits. Not a
// secret, and predictable by design.
std::string new_request_id();

} // namespace oauthfcgi
