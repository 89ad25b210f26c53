// The program's own listening socket: the flag values, and the unix socket made with
// the group and mode asked (who can connect is checked by connecting as other users).
#include "listen.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <functional>

#include "test_util.hpp"

using namespace oauthfcgi;

namespace {

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

gid_t group_id(const char* name) {
  group* g = getgrnam(name);
  return g ? g->gr_gid : static_cast<gid_t>(-1);
}

// Runs body in a child process as user `name` (its primary group only); its result is
// the child's exit status, or -1 when the switch itself failed.
int as_user(const char* name, const std::function<int()>& body) {
  passwd* pw = getpwnam(name);
  if (!pw) return -1;
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(100);
    _exit(body());
  }
  int st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) == 100) return -1;
  return WEXITSTATUS(st);
}

// 0 when a unix stream connection to path succeeds, else errno.
int connect_errno(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 ? 0 : errno;
  close(fd);
  return rc;
}

// A folder other users may pass through (TempDir makes it 0700).
struct OpenDir : testutil::TempDir {
  OpenDir() { chmod(path().c_str(), 0711); }
};

} // namespace

TEST(ParseSocketMode, TakesOctalUpTo0777) {
  EXPECT_EQ(parse_socket_mode("0660").value(), 0660u);
  EXPECT_EQ(parse_socket_mode("660").value(), 0660u);
  EXPECT_EQ(parse_socket_mode("0600").value(), 0600u);
  EXPECT_EQ(parse_socket_mode("0777").value(), 0777u);
  EXPECT_EQ(parse_socket_mode("0").value(), 0u);
  EXPECT_EQ(parse_socket_mode("00660").value(), 0660u);
  for (const char* bad : {"", "0680", "1777", "01000", "4000000000000000000000660", "rw-rw----", "0x1b0",
                          "-660", " 660", "66 0"}) {
    auto m = parse_socket_mode(bad);
    EXPECT_FALSE(m.ok()) << bad;
    if (!m.ok()) {
      EXPECT_EQ(m.error().kind, ErrorKind::config);
      EXPECT_TRUE(contains(m.error().reason, "--socket-mode wants an octal mode")) << m.error().reason;
    }
  }
}

TEST(ParseSocketGroup, TakesANameOrANumber) {
  EXPECT_EQ(parse_socket_group("root").value(), 0u);
  ASSERT_NE(group_id("www-data"), static_cast<gid_t>(-1)) << "Debian has the group www-data";
  EXPECT_EQ(parse_socket_group("www-data").value(), group_id("www-data"));
  EXPECT_EQ(parse_socket_group("33").value(), 33u);
  // A number needs no entry in /etc/group, as with chown.
  EXPECT_EQ(parse_socket_group("54321").value(), 54321u);
  auto g = parse_socket_group("no-such-group-here");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().kind, ErrorKind::config);
  EXPECT_EQ(g.error().reason, "--socket-group: no group \"no-such-group-here\" on this system (see getent "
                              "group; a number works too)");
  EXPECT_FALSE(parse_socket_group("").ok());
  EXPECT_FALSE(parse_socket_group("12345678901").ok()); // no such name, and too big a number
}

TEST(ParseListen, UnixAndTcpForms) {
  auto u = parse_listen("unix:/run/oauth-fcgi/check.sock");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->unix_socket);
  EXPECT_EQ(u->path, "/run/oauth-fcgi/check.sock");
  auto t = parse_listen("[::1]:9105");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->unix_socket);
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, "9105");
  EXPECT_FALSE(parse_listen("unix:" + std::string(sizeof(sockaddr_un::sun_path), 'x')).ok());
}

TEST(ListenUnix, DefaultModeIs0660AndTheUmaskIsPutBack) {
  OpenDir dir;
  std::string path = dir.file("s.sock");
  mode_t before = umask(022);
  OwnedSocketFile owned;
  auto fd = listen_unix(path, {}, owned);
  mode_t after = umask(before);
  ASSERT_TRUE(fd.ok()) << fd.error().reason;
  EXPECT_EQ(after, 022u);
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, getegid());
  EXPECT_EQ(connect_errno(path), 0);
  owned.remove();
  EXPECT_NE(lstat(path.c_str(), &st), 0);
}

TEST(ListenUnix, GroupAndModeDecideWhoMayConnect) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to act as www-data and nobody";
  OpenDir dir;
  gid_t www = group_id("www-data");
  ASSERT_NE(www, static_cast<gid_t>(-1));
  std::string path = dir.file("g.sock");
  OwnedSocketFile owned;
  auto fd = listen_unix(path, {0660, www}, owned);
  ASSERT_TRUE(fd.ok()) << fd.error().reason;
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, www);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(as_user("www-data", [&] { return connect_errno(path); }), 0);
  EXPECT_EQ(as_user("nobody", [&] { return connect_errno(path); }), EACCES);
  owned.remove();

  // 0600: the group no longer may.
  std::string narrow = dir.file("n.sock");
  OwnedSocketFile owned2;
  auto fd2 = listen_unix(narrow, {0600, www}, owned2);
  ASSERT_TRUE(fd2.ok()) << fd2.error().reason;
  ASSERT_EQ(lstat(narrow.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(as_user("www-data", [&] { return connect_errno(narrow); }), EACCES);
  EXPECT_EQ(connect_errno(narrow), 0);
  owned2.remove();
}

TEST(ListenUnix, AGroupTheUserIsNotInIsRefusedAndLeavesNoFile) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to act as nobody";
  OpenDir dir;
  chmod(dir.path().c_str(), 0777);
  std::string path = dir.file("x.sock");
  std::string reason_file = dir.file("reason");
  int rc = as_user("nobody", [&] {
    OwnedSocketFile owned;
    auto fd = listen_unix(path, {0660, group_id("www-data")}, owned);
    if (fd.ok()) return 1;
    FILE* f = fopen(reason_file.c_str(), "w");
    if (f) {
      fputs(fd.error().reason.c_str(), f);
      fclose(f);
    }
    return 0;
  });
  EXPECT_EQ(rc, 0);
  std::string reason = testutil::read_file(reason_file);
  EXPECT_TRUE(contains(reason, "cannot give " + path + " to group")) << reason;
  EXPECT_TRUE(contains(reason, "member of that group")) << reason;
  struct stat st;
  EXPECT_NE(lstat(path.c_str(), &st), 0) << "the half-made socket file is removed";
}

TEST(ListenUnix, ReplacesAStaleSocketButNotAFileOrALiveOne) {
  OpenDir dir;
  std::string path = dir.file("s.sock");
  OwnedSocketFile owned;
  auto live = listen_unix(path, {}, owned);
  ASSERT_TRUE(live.ok());
  OwnedSocketFile other;
  auto again = listen_unix(path, {}, other);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(contains(again.error().reason, "in use by a running server")) << again.error().reason;
  live = Fd(); // closed: the file is now stale
  auto fresh = listen_unix(path, {0640, std::nullopt}, other);
  ASSERT_TRUE(fresh.ok()) << fresh.error().reason;
  struct stat st;
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  other.remove();

  std::string plain = dir.write("plain", "x");
  auto refused = listen_unix(plain, {}, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(contains(refused.error().reason, "exists and is not a socket")) << refused.error().reason;
  EXPECT_EQ(testutil::read_file(plain), "x");
}
