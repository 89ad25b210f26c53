#include "fcgi_client.hpp"

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fcgitest {

namespace {

enum : unsigned char {
  kBeginRequest = 1,
  kEndRequest = 3,
  kParams = 4,
  kStdin = 5,
  kStdout = 6,
  kStderr = 7,
};
constexpr unsigned char kResponder = 1;
constexpr unsigned char kKeepConn = 1;
constexpr int kRequestId = 1; // as nginx: one request per connection at a time

std::string record(unsigned char type, std::string_view content) {
  std::string r;
  r += static_cast<char>(1); // version
  r += static_cast<char>(type);
  r += static_cast<char>(kRequestId >> 8);
  r += static_cast<char>(kRequestId & 0xff);
  r += static_cast<char>((content.size() >> 8) & 0xff);
  r += static_cast<char>(content.size() & 0xff);
  r += static_cast<char>(0); // padding
  r += static_cast<char>(0); // reserved
  r += content;
  return r;
}

// A stream (PARAMS or STDIN): records of at most 65535 bytes, then an empty one.
std::string stream(unsigned char type, std::string_view data) {
  std::string r;
  while (!data.empty()) {
    size_t n = std::min<size_t>(data.size(), 65535);
    r += record(type, data.substr(0, n));
    data.remove_prefix(n);
  }
  r += record(type, {});
  return r;
}

void put_length(std::string& out, size_t n) {
  if (n < 128) {
    out += static_cast<char>(n);
  } else {
    out += static_cast<char>(((n >> 24) & 0x7f) | 0x80);
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 8) & 0xff);
    out += static_cast<char>(n & 0xff);
  }
}

int connect_to(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) {
    std::string path = address.substr(5);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) throw std::runtime_error("socket path too long: " + path);
    std::memcpy(sa.sun_path, path.data(), path.size());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      int e = errno;
      close(fd);
      throw std::runtime_error("connect " + address + ": " + std::strerror(e));
    }
    return fd;
  }
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("bad address " + address);
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
    throw std::runtime_error("cannot resolve " + address);
  int fd = -1;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) throw std::runtime_error("connect " + address + " failed");
  return fd;
}

} // namespace

std::string CgiResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  return {};
}

size_t CgiResponse::header_count(std::string_view name) const {
  size_t count = 0;
  for (const auto& [n, v] : headers)
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) ++count;
  return count;
}

CgiResponse parse_cgi_response(std::string_view raw) {
  CgiResponse r;
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos) return r;
  std::string_view head = raw.substr(0, end);
  r.body = std::string(raw.substr(end + 4));
  r.status = 200;
  while (!head.empty()) {
    size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return r;
    std::string name(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    if (strcasecmp(name.c_str(), "Status") == 0) r.status = std::atoi(std::string(value).c_str());
    r.headers.emplace_back(std::move(name), std::string(value));
  }
  r.ok = true;
  return r;
}

Params nginx_params(const std::string& method, const std::string& route, const std::string& query,
                    const std::map<std::string, std::string>& extra) {
  Params p = {
      {"QUERY_STRING", query},
      {"REQUEST_METHOD", method},
      {"CONTENT_TYPE", ""},
      {"CONTENT_LENGTH", ""},
      {"SCRIPT_NAME", route},
      {"REQUEST_URI", route + (query.empty() ? "" : "?" + query)},
      {"DOCUMENT_URI", route},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"GATEWAY_INTERFACE", "CGI/1.1"},
      {"REMOTE_ADDR", "127.0.0.1"},
      {"SERVER_NAME", "localhost"},
      {"HTTP_HOST", "localhost"},
  };
  for (const auto& [k, v] : extra) {
    bool replaced = false;
    for (auto& [pk, pv] : p)
      if (pk == k) {
        pv = v;
        replaced = true;
      }
    if (!replaced) p.emplace_back(k, v);
  }
  return p;
}

FcgiClient::FcgiClient(const std::string& address) : fd_(connect_to(address)) {
  (void)signal(SIGPIPE, SIG_IGN); // a server that hangs up must fail the test, not kill it
}

FcgiClient::~FcgiClient() {
  if (fd_ >= 0) close(fd_);
}

FcgiClient::FcgiClient(FcgiClient&& other) noexcept : fd_(other.fd_), pending_(std::move(other.pending_)) {
  other.fd_ = -1;
}

void FcgiClient::write_all(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("write to FastCGI server: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

void FcgiClient::send(const Params& params, const std::string& body, bool keep_conn) {
  std::string begin(8, '\0');
  begin[1] = static_cast<char>(kResponder);
  begin[2] = static_cast<char>(keep_conn ? kKeepConn : 0);
  std::string encoded;
  for (const auto& [name, value] : params) {
    put_length(encoded, name.size());
    put_length(encoded, value.size());
    encoded += name;
    encoded += value;
  }
  write_all(record(kBeginRequest, begin) + stream(kParams, encoded) + stream(kStdin, body));
}

FcgiResult FcgiClient::receive(std::chrono::milliseconds timeout) {
  FcgiResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // Consume every whole record already buffered.
    while (pending_.size() >= 8) {
      auto b = [&](size_t i) { return static_cast<unsigned char>(pending_[i]); };
      size_t len = (b(4) << 8) | b(5), pad = b(6);
      if (pending_.size() < 8 + len + pad) break;
      unsigned char type = b(1);
      std::string content = pending_.substr(8, len);
      pending_.erase(0, 8 + len + pad);
      if (type == kStdout) {
        result.out += content;
      } else if (type == kStderr) {
        result.err += content;
      } else if (type == kEndRequest && content.size() >= 5) {
        auto c = [&](size_t i) { return static_cast<unsigned char>(content[i]); };
        result.app_status = (unsigned(c(0)) << 24) | (c(1) << 16) | (c(2) << 8) | c(3);
        result.protocol_status = c(4);
        result.complete = true;
        return result;
      }
    }
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return result;
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[65536];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return result;
    pending_.append(buf, static_cast<size_t>(n));
  }
}

bool FcgiClient::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    pending_.append(buf, static_cast<size_t>(n));
  }
}

CgiResponse fcgi_get(const std::string& address, const Params& params, const std::string& body) {
  FcgiClient client(address);
  FcgiResult r = client.request(params, body);
  if (!r.complete) return {};
  return parse_cgi_response(r.out);
}

} // namespace fcgitest
