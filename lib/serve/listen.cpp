// The listening socket: a unix path or host:port, its group and mode, systemd's fd (listen.hpp).
#include "listen.hpp"

#include <grp.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace oauthfcgi {

namespace {

// As deep as the kernel allows (net.core.somaxconn, 4096 on current kernels): a burst
// of connections waits there while the pool grows, where 128 made nginx answer 502 at
// once (a unix socket's connect fails with EAGAIN when the backlog is full).
constexpr int kListenBacklog = SOMAXCONN;

std::string errno_text(int e) {
  return std::strerror(e);
}

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode));
  return buf;
}

// Sets the umask for its lifetime.
class UmaskGuard {
public:
  explicit UmaskGuard(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskGuard() { ::umask(old_); }
  UmaskGuard(const UmaskGuard&) = delete;
  UmaskGuard& operator=(const UmaskGuard&) = delete;

private:
  mode_t old_;
};

} // namespace

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void OwnedSocketFile::remove() const {
  struct stat st;
  if (!path.empty() && ::lstat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino)
    ::unlink(path.c_str());
}

Result<ListenAddress> parse_listen(std::string_view s) {
  ListenAddress a;
  auto bad = [&] {
    return make_error(ErrorKind::config,
                      "--listen wants unix:PATH, HOST:PORT or [IPv6]:PORT, not \"" + std::string(s) + "\"");
  };
  if (s.rfind("unix:", 0) == 0) {
    a.unix_socket = true;
    a.path = std::string(s.substr(5));
    if (a.path.empty()) return bad();
    if (a.path.size() >= sizeof(sockaddr_un::sun_path))
      return make_error(ErrorKind::config, "--listen: the socket path is longer than " +
                                               std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
    return a;
  }
  std::string_view host, port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find("]:");
    if (close == std::string_view::npos) return bad();
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) return bad();
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad(); // IPv6 needs brackets
  }
  if (host.empty() || port.empty() || port.size() > 5) return bad();
  long p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad();
    p = p * 10 + (c - '0');
  }
  if (p < 1 || p > 65535) return bad();
  a.host = std::string(host);
  a.port = std::string(port);
  return a;
}

Result<mode_t> parse_socket_mode(std::string_view s) {
  auto bad = [&] {
    return make_error(ErrorKind::config,
                      "--socket-mode wants an octal mode from 0000 to 0777, e.g. 0660, not \"" +
                          std::string(s) + "\"");
  };
  if (s.empty()) return bad();
  mode_t mode = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return bad();
    mode = mode * 8 + static_cast<mode_t>(c - '0');
    if (mode > 0777) return bad(); // set-ID and sticky bits mean nothing on a socket
  }
  return mode;
}

Result<gid_t> parse_socket_group(std::string_view s) {
  std::string name(s);
  if (name.empty()) return make_error(ErrorKind::config, "--socket-group needs a group name or number");
  std::vector<char> buf(4096);
  group entry{};
  group* found = nullptr;
  int rc;
  while ((rc = ::getgrnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (size_t{1} << 20))
    buf.resize(buf.size() * 2);
  if (rc == 0 && found) return found->gr_gid;
  // Like chown(1): a name first, then a number (which needs no entry in /etc/group).
  if (name.size() <= 9 && name.find_first_not_of("0123456789") == std::string::npos)
    return static_cast<gid_t>(std::stoul(name));
  return make_error(ErrorKind::config, "--socket-group: no group \"" + name +
                                           "\" on this system (see getent group; a number works too)");
}

Result<Fd> listen_unix(const std::string& path, const UnixSocketOptions& options, OwnedSocketFile& owned) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error(ErrorKind::config,
                        path + " exists and is not a socket (remove it or choose another path)");
    // A socket file left by a process that died; unless someone still answers on it.
    Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.get() >= 0 && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0)
      return make_error(ErrorKind::config, path + " is in use by a running server (stop it first)");
    ::unlink(path.c_str());
  }
  // The socket is made under a private name and renamed into place once it listens with
  // its group and mode: whoever sees the path can connect at once (a web server, a test
  // waiting for the file). A path too long for the suffix is bound in place.
  std::string staged = path + ".new" + std::to_string(::getpid());
  if (staged.size() >= sizeof sa.sun_path) staged = path;
  sockaddr_un staged_sa{};
  staged_sa.sun_family = AF_UNIX;
  std::memcpy(staged_sa.sun_path, staged.data(), staged.size());
  ::unlink(staged.c_str()); // a leftover of a crashed start with our pid
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return make_error(ErrorKind::config, "socket: " + errno_text(errno));
  int rc;
  {
    // The file is born with at most the mode asked: never wider, not even for a moment.
    UmaskGuard mask(~options.mode & 0777);
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&staged_sa), sizeof staged_sa);
  }
  if (rc != 0) return make_error(ErrorKind::config, "cannot bind " + path + ": " + errno_text(errno));
  auto fail = [&](std::string reason) {
    ::unlink(staged.c_str());
    return make_error(ErrorKind::config, std::move(reason));
  };
  // Group, then the exact mode (a default ACL on the folder would override the umask).
  if (options.group && ::lchown(staged.c_str(), static_cast<uid_t>(-1), *options.group) != 0) {
    int e = errno;
    return fail("cannot give " + path + " to group " + std::to_string(*options.group) + ": " + errno_text(e) +
                (e == EPERM ? " (the program's user must be root or a member of that group; or leave out "
                              "--socket-group and make the folder set-group-ID, chmod g+s)"
                            : ""));
  }
  if (::chmod(staged.c_str(), options.mode) != 0)
    return fail("cannot set mode " + octal(options.mode) + " on " + path + ": " + errno_text(errno));
  if (::listen(fd.get(), kListenBacklog) != 0)
    return fail("cannot listen on " + path + ": " + errno_text(errno));
  if (staged != path && ::rename(staged.c_str(), path.c_str()) != 0)
    return fail("cannot move the socket into place at " + path + ": " + errno_text(errno));
  if (::lstat(path.c_str(), &st) == 0) owned = OwnedSocketFile{path, st.st_dev, st.st_ino};
  return fd;
}

Result<Fd> listen_tcp(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return make_error(ErrorKind::config, "cannot resolve " + host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(res, &::freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    Fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (fd.get() < 0) {
      last = errno_text(errno);
      continue;
    }
    int one = 1;
    // A restart must not wait for the old connections' TIME_WAIT.
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), kListenBacklog) != 0) {
      last = errno_text(errno);
      continue;
    }
    return fd;
  }
  return make_error(ErrorKind::config, "cannot listen on " + host + ":" + port + ": " + last);
}

} // namespace oauthfcgi
