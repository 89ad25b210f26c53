// A program's own listening socket (--listen, --socket-group, --socket-mode): the
// flags' values parsed, and the socket made with exactly the owner, group and mode
// asked, so the web server's user may connect and nobody else.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"

namespace oauthfcgi {

// Owns a file descriptor.
class Fd {
public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

private:
  void reset();
  int fd_;
};

struct ListenAddress {
  bool unix_socket = false;
  std::string path;       // unix
  std::string host, port; // tcp
};

// The parsers' errors are ErrorKind::config with a reason naming the flag.
// "unix:PATH", "HOST:PORT" or "[IPv6]:PORT".
Result<ListenAddress> parse_listen(std::string_view s);
// Octal, "660" or "0660", at most 0777.
Result<mode_t> parse_socket_mode(std::string_view s);
// A group name known to the system (NSS), or a number, as chown(1) takes them.
Result<gid_t> parse_socket_group(std::string_view s);

constexpr mode_t kDefaultSocketMode = 0660;

struct UnixSocketOptions {
  mode_t mode = kDefaultSocketMode;
  std::optional<gid_t> group; // else the process's (or a set-group-ID folder's)
};

// A unix socket file we created, so we remove it at exit (but not a successor's).
struct OwnedSocketFile {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
  void remove() const;
};

// Binds and listens on path, replacing a stale socket file but not one a server
// answers on. Sets the process umask while it binds: call it before starting threads.
Result<Fd> listen_unix(const std::string& path, const UnixSocketOptions& options, OwnedSocketFile& owned);
Result<Fd> listen_tcp(const std::string& host, const std::string& port);

} // namespace oauthfcgi
