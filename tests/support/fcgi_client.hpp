// A minimal FastCGI client for tests, playing the web server's part: BEGIN_REQUEST
// (responder, optionally FCGI_KEEP_CONN), PARAMS, STDIN; then STDOUT, STDERR and
// END_REQUEST back. Several requests may go over one kept connection.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fcgitest {

using Params = std::vector<std::pair<std::string, std::string>>;

struct FcgiResult {
  bool complete = false; // END_REQUEST arrived
  std::string out;       // FCGI_STDOUT: the raw CGI response
  std::string err;       // FCGI_STDERR
  unsigned app_status = 0;
  int protocol_status = -1;
};

// A CGI response ("Status: 200 OK\r\nName: value\r\n\r\nbody") taken apart.
struct CgiResponse {
  bool ok = false; // the header block parsed
  int status = 0;  // 200 when no Status header
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // First header with this (case-insensitive) name; empty when absent.
  std::string header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
};
CgiResponse parse_cgi_response(std::string_view raw);

// Params as a typical nginx would send them for `method route?query`.
Params nginx_params(const std::string& method, const std::string& route, const std::string& query = {},
                    const std::map<std::string, std::string>& extra = {});

class FcgiClient {
public:
  // address: "unix:/path.sock" or "HOST:PORT". Throws std::runtime_error when it can't connect.
  explicit FcgiClient(const std::string& address);
  ~FcgiClient();
  FcgiClient(FcgiClient&& other) noexcept;
  FcgiClient& operator=(FcgiClient&&) = delete;
  FcgiClient(const FcgiClient&) = delete;
  FcgiClient& operator=(const FcgiClient&) = delete;

  // Sends a whole request (the body as STDIN).
  void send(const Params& params, const std::string& body = {}, bool keep_conn = false);
  // Reads STDOUT/STDERR until END_REQUEST, EOF or the timeout.
  FcgiResult receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  FcgiResult request(const Params& params, const std::string& body = {}, bool keep_conn = false,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    send(params, body, keep_conn);
    return receive(timeout);
  }
  // True when the server closed the connection (EOF within the timeout).
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  int fd() const { return fd_; }

private:
  void write_all(const std::string& data);
  int fd_ = -1;
  std::string pending_; // bytes read but not yet consumed
};

// Connects, sends one request without keep-alive, returns the parsed CGI response
// (ok == false when the exchange failed).
CgiResponse fcgi_get(const std::string& address, const Params& params, const std::string& body = {});

} // namespace fcgitest
