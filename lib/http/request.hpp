// An incoming request as the web server described it (FastCGI/CGI parameters and
// a body), with the accessors handlers need. Built from plain strings so tests and
// fuzzers can make one without a socket.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "cookie.hpp" // parse_cookie, which Request::cookie applies
#include "error.hpp"
#include "url.hpp"

namespace oauthfcgi {

class Request {
public:
  // The FastCGI/CGI parameters in the order they came: one buffer holding every name and
  // value, and an index into it, so a request's ~30 parameters cost two allocations. A
  // lookup scans the index and the first parameter of a name wins, as with the map this
  // replaced (nginx sends a name twice when a location sets one fastcgi_params sets too).
  class Env {
  public:
    struct Param {
      std::string_view name, value;
    };

    Env() = default;
    Env(std::initializer_list<std::pair<std::string_view, std::string_view>> params);
    // From libfcgi's envp or environ: "NAME=value" strings up to a null pointer; a string
    // without '=' is skipped.
    static Env from_envp(const char* const* envp);

    // The first value of `name`; nullopt when absent.
    std::optional<std::string_view> find(std::string_view name) const;
    size_t size() const { return index_.size(); }
    bool empty() const { return index_.empty(); }

    // For tests: env["NAME"] = "value" replaces every NAME with one, at the end.
    class Setter {
    public:
      Setter& operator=(std::string_view value) {
        env_.set(name_, value);
        return *this;
      }

    private:
      friend class Env;
      Setter(Env& env, std::string_view name) : env_(env), name_(name) {}
      Env& env_;
      std::string_view name_;
    };
    Setter operator[](std::string_view name) { return Setter(*this, name); }
    void set(std::string_view name, std::string_view value);
    void erase(std::string_view name);

    class const_iterator {
    public:
      using iterator_category = std::forward_iterator_tag;
      using value_type = Param;
      using difference_type = std::ptrdiff_t;
      using pointer = void;
      using reference = Param;
      Param operator*() const { return env_->at(env_->index_[i_]); }
      const_iterator& operator++() {
        ++i_;
        return *this;
      }
      bool operator==(const const_iterator& o) const { return i_ == o.i_; }
      bool operator!=(const const_iterator& o) const { return i_ != o.i_; }

    private:
      friend class Env;
      const_iterator(const Env* env, size_t i) : env_(env), i_(i) {}
      const Env* env_;
      size_t i_;
    };
    const_iterator begin() const { return {this, 0}; }
    const_iterator end() const { return {this, index_.size()}; }

  private:
    // A parameter is buf_[at, at + name_size) '=' value_size bytes: offsets, not views,
    // so that copies and moves need no fixing up.
    struct Span {
      size_t at, name_size, value_size;
    };
    Param at(const Span& s) const {
      return {std::string_view(buf_.data() + s.at, s.name_size),
              std::string_view(buf_.data() + s.at + s.name_size + 1, s.value_size)};
    }
    void add(std::string_view name, std::string_view value);

    std::string buf_;
    std::vector<Span> index_;
  };

  Request(Env env, std::string body = {});

  const std::string& method() const { return method_; }
  // SCRIPT_NAME + PATH_INFO, or DOCUMENT_URI when both are empty; never REQUEST_URI.
  const std::string& route() const { return route_; }
  const std::string& query_string() const { return query_string_; }
  const Params& query() const { return query_; }
  ParamLookup query_param(std::string_view name) const { return find_param(query_, name); }
  // A cookie's value; nullopt when missing, sent twice or malformed.
  std::optional<std::string> cookie(std::string_view name) const;
  // An HTTP request header by its name ("Origin" reads HTTP_ORIGIN); nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const;
  // A raw FastCGI/CGI parameter (REQUEST_URI, REMOTE_ADDR, ...); nullopt when absent.
  std::optional<std::string_view> param(std::string_view name) const { return env_.find(name); }
  const std::string& body() const { return body_; }
  const Env& env() const { return env_; }

private:
  Env env_;
  std::string body_;
  std::string method_, route_, query_string_;
  Params query_;
};

// [limits]: query over max_query_bytes -> uri_too_long (414); Cookie header over
// max_cookie_bytes or all HTTP_* parameters (each one sent) over max_header_bytes -> headers_too_large
// (431); CONTENT_LENGTH over max_body_bytes -> body_too_large (413).
Result<void> check_limits(const Request::Env& env, const LimitsConfig& limits);
// Its last check alone: CONTENT_LENGTH within max_body_bytes (oauth-api makes it after
// its own, in the order its contract gives).
Result<void> check_body_limit(const Request::Env& env, const LimitsConfig& limits);

// CONTENT_LENGTH parsed strictly (digits only); 0 when absent or empty. A value that is
// not a number is bad_request; one too large to hold is body_too_large.
Result<size_t> content_length(const Request::Env& env);

} // namespace oauthfcgi
