// Deploying the programs as README says: each program under systemd socket activation
// (systemd-socket-activate: fd 3 + LISTEN_FDS, and --inetd: fd 0 as StandardInput=socket
// gives it), under spawn-fcgi (fd 0); `make install` into a DESTDIR and the installed
// units through `systemd-analyze verify`; the shipped units against the nginx snippet;
// and scripts/smoke against `make demo` and against deployments that are broken.
#include <gtest/gtest.h>

#include <cstdio>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "fcgi_client.hpp"
#include "test_util.hpp"

using namespace testutil;
using fcgitest::CgiResponse;
using fcgitest::nginx_params;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kPrograms = {"connect", "callback", "profile", "logout", "check", "api"};

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

bool is_socket(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// The socket exists and something listens on it: bind() makes the file before
// listen() is called, so the file alone is not readiness.
bool socket_listens(const std::string& path) {
  if (!is_socket(path)) return false;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The lines of text that are not empty.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

bool have(const std::string& program) {
  return run({"sh", "-c", "command -v " + program}).first == 0;
}

gid_t group_id(const char* name) {
  group* g = getgrnam(name);
  return g ? g->gr_gid : static_cast<gid_t>(-1);
}

// Whether user `name` (with only its own group) may connect to the unix socket at path:
// what the web server's user meets.
bool user_can_connect(const char* name, const std::string& path) {
  passwd* pw = getpwnam(name);
  if (!pw) return false;
  uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(2);
    _exit(socket_listens(path) ? 0 : 1);
  }
  int st = 0;
  return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

// A config for the programs with a real Redis, as a deployment would have.
class Deployment {
public:
  Deployment() {
    dir_.write("secret", std::string(48, 'k'));
    dir_.write("github.secret", "github-secret\n");
    config_ = dir_.write("oauth-fcgi.conf", "[server]\n"
                                            "public_url = https://www.example.com\n"
                                            "secret_file = secret\n"
                                            "threads = 2\n"
                                            "[redis]\n"
                                            "url = " +
                                                redis_.url() +
                                                "\n"
                                                "[provider github]\n"
                                                "type = github\n"
                                                "client_id = Iv1.0123456789abcdef\n"
                                                "client_secret_file = github.secret\n");
  }
  const std::string& config() const { return config_; }
  const TempDir& dir() const { return dir_; }

private:
  TempDir dir_;
  RedisServer redis_;
  std::string config_;
};

// What each program must answer to a request nginx would send it, with no session.
void expect_program_answers(const std::string& program, const std::string& address) {
  SCOPED_TRACE("oauth-" + program);
  if (program == "connect") {
    CgiResponse r = fcgitest::fcgi_get(address, nginx_params("GET", "/auth/connect/github"));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.header("Location").rfind("https://github.com/login/oauth/authorize?", 0), 0u)
        << r.header("Location");
    EXPECT_TRUE(contains(r.header("Set-Cookie"), "__Host-oauth_session_bind=")) << r.header("Set-Cookie");
  } else if (program == "callback") {
    CgiResponse r = fcgitest::fcgi_get(
        address, nginx_params("GET", "/auth/callback/github", "code=abc&state=" + std::string(43, 'A')));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 400) << r.body; // a state Redis never saw
  } else if (program == "profile") {
    CgiResponse r = fcgitest::fcgi_get(address, nginx_params("GET", "/auth/profile"));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(r.body, "{\"error\":\"unauthenticated\"}");
  } else if (program == "logout") {
    CgiResponse r = fcgitest::fcgi_get(address, nginx_params("GET", "/auth/logout"));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 405);
  } else if (program == "check") {
    CgiResponse r =
        fcgitest::fcgi_get(address, nginx_params("GET", "/auth/check", "", {{"REQUEST_URI", "/private/x"}}));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("X-Auth-Redirect"), "/auth/connect?return_to=%2Fprivate%2Fx");
  } else if (program == "api") {
    CgiResponse r = fcgitest::fcgi_get(
        address, nginx_params("GET", "/auth/api/nope/user", "", {{"REQUEST_URI", "/auth/api/nope/user"}}));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_TRUE(contains(r.body, "\"unknown_provider\"")) << r.body;
  }
}

// Starts `launcher... oauth-<program> --config FILE` with its socket at dir/<program>.sock,
// checks the answer and the run mode in the log, then SIGTERM: the program exits 0.
void serve_each_program(const Deployment& d, const std::vector<std::string>& launcher,
                        const std::string& mode) {
  for (const std::string& program : kPrograms) {
    SCOPED_TRACE(launcher[0] + " oauth-" + program);
    std::string sock = d.dir().file(program + ".sock");
    std::string log = d.dir().file(program + "-" + mode + ".log");
    std::vector<std::string> argv;
    for (const auto& a : launcher)
      argv.push_back(a == "SOCK" ? sock : a);
    argv.insert(argv.end(), {bin_dir() + "/oauth-" + program, "--config", d.config()});
    Process p(argv, {}, log);
    ASSERT_TRUE(wait_until([&] { return socket_listens(sock); })) << read_file(log);
    expect_program_answers(program, "unix:" + sock);
    // The main thread logs "started" after its workers began: a fast first answer can
    // come before that line is written.
    std::string text;
    wait_until([&] {
      text = read_file(log);
      return contains(text, "event=started mode=" + mode) && contains(text, "event=request method=GET");
    });
    EXPECT_TRUE(contains(text, "event=started mode=" + mode)) << text;
    EXPECT_TRUE(contains(text, "event=request method=GET")) << text;
    EXPECT_EQ(p.stop(SIGTERM), 0) << read_file(log);
    ::unlink(sock.c_str());
  }
}

} // namespace

// ---- run modes --------------------------------------------------------------------

TEST(RunModes, EachProgramUnderSystemdSocketActivationOnFd3) {
  ASSERT_TRUE(have("systemd-socket-activate")) << "scripts/install-deps installs systemd";
  Deployment d;
  // Like a .socket unit: the socket exists first, the program starts at the first
  // connection and finds it as fd 3 with LISTEN_FDS=1 and LISTEN_PID.
  serve_each_program(d, {"systemd-socket-activate", "--listen", "SOCK"}, "systemd");
}

TEST(RunModes, EachProgramOnTheSocketAsFd0LikeStandardInputSocket) {
  ASSERT_TRUE(have("systemd-socket-activate"));
  Deployment d;
  // --inetd without --accept hands the listening socket over as fd 0, without
  // LISTEN_FDS: what StandardInput=socket (the commented way in the units) does.
  serve_each_program(d, {"systemd-socket-activate", "--inetd", "--listen", "SOCK"}, "inherited");
}

TEST(RunModes, EachProgramUnderSpawnFcgi) {
  ASSERT_TRUE(have("spawn-fcgi")) << "scripts/install-deps installs spawn-fcgi";
  Deployment d;
  serve_each_program(d, {"spawn-fcgi", "-s", "SOCK", "-M", "0660", "-n", "--"}, "inherited");
  // spawn-fcgi made the socket with the mode it was given (README: -M 0660 -U/-G www-data).
  std::string sock = d.dir().file("mode.sock");
  Process p({"spawn-fcgi", "-s", sock, "-M", "0660", "-n", "--", bin_dir() + "/oauth-profile", "--config",
             d.config()},
            {}, d.dir().file("mode.log"));
  ASSERT_TRUE(wait_until([&] { return is_socket(sock); }));
  struct stat st;
  ASSERT_EQ(stat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST(RunModes, EachProgramOnItsOwnUnixSocketWithTheGroupAndModeAsked) {
  ASSERT_EQ(geteuid(), 0u) << "the socket is given to group www-data: run as root";
  gid_t www = group_id("www-data");
  ASSERT_NE(www, static_cast<gid_t>(-1)) << "Debian's web servers run as www-data";
  Deployment d;
  // nginx and Apache (www-data) pass through the folder; the socket alone decides.
  ASSERT_EQ(chmod(d.dir().path().c_str(), 0711), 0);
  for (const std::string& program : kPrograms) {
    SCOPED_TRACE("oauth-" + program);
    std::string sock = d.dir().file(program + ".sock");
    std::string log = d.dir().file(program + "-listen.log");
    Process p({bin_dir() + "/oauth-" + program, "--config", d.config(), "--listen", "unix:" + sock,
               "--socket-group", "www-data", "--socket-mode", "0660"},
              {}, log);
    ASSERT_TRUE(wait_until([&] { return socket_listens(sock); })) << read_file(log);
    struct stat st;
    ASSERT_EQ(lstat(sock.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, www);
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    EXPECT_TRUE(user_can_connect("www-data", sock));
    EXPECT_FALSE(user_can_connect("nobody", sock)) << "mode 0660: others may not connect";
    expect_program_answers(program, "unix:" + sock);
    EXPECT_EQ(p.stop(SIGTERM), 0) << read_file(log);
    EXPECT_FALSE(is_socket(sock)) << "removed at exit";
  }

  // Without the flags: mode 0660 and the program's own group, so www-data may not.
  std::string sock = d.dir().file("default.sock");
  std::string log = d.dir().file("default.log");
  Process p({bin_dir() + "/oauth-check", "--config", d.config(), "--listen", "unix:" + sock}, {}, log);
  ASSERT_TRUE(wait_until([&] { return socket_listens(sock); })) << read_file(log);
  struct stat st;
  ASSERT_EQ(lstat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, getegid());
  EXPECT_FALSE(user_can_connect("www-data", sock));
  expect_program_answers("check", "unix:" + sock);
}

TEST(RunModes, SocketFlagMistakesExitTwoBeforeAnythingStarts) {
  Deployment d;
  std::string sock = d.dir().file("x.sock");
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--socket-group", "www-data"},
        {"--listen", "127.0.0.1:" + std::to_string(free_port()), "--socket-mode", "0660"},
        {"--listen", "unix:" + sock, "--socket-mode", "0866"},
        {"--listen", "unix:" + sock, "--socket-group", "no-such-group-here"}}) {
    std::vector<std::string> argv = {bin_dir() + "/oauth-check", "--config", d.config()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto [code, out] = run(argv);
    EXPECT_EQ(code, 2) << out;
    EXPECT_EQ(out.rfind("oauth-check: --socket-", 0), 0u) << out;
    EXPECT_TRUE(contains(out, "(see --help)")) << out;
    EXPECT_FALSE(is_socket(sock));
  }
  auto [hcode, help] = run({bin_dir() + "/oauth-check", "--help"});
  EXPECT_EQ(hcode, 0);
  EXPECT_TRUE(contains(help, "--socket-group GROUP")) << help;
  EXPECT_TRUE(contains(help, "--socket-mode MODE")) << help;
}

// ---- the shipped units ------------------------------------------------------------

namespace {

// A unit with its program's name, socket path and route taken out, to compare the six.
std::string normalized_unit(const std::string& program, const std::string& suffix) {
  std::string text = read_file(source_dir() + "/conf/systemd/oauth-" + program + suffix);
  std::istringstream in(text);
  std::string out;
  bool first = true;
  for (std::string line; std::getline(in, line); first = false) {
    if (first || line.rfind("Description=", 0) == 0) continue; // these name the route
    for (const std::string& from : {"oauth-" + program, "/" + program + ".sock"}) {
      for (size_t at = line.find(from); at != std::string::npos; at = line.find(from, at))
        line.replace(at, from.size(), from[0] == '/' ? "/NAME.sock" : "oauth-NAME");
    }
    out += line + "\n";
  }
  return out;
}

} // namespace

TEST(Units, TheSixProgramsHaveTheSameUnitsButForTheirName) {
  for (const char* suffix : {".socket", ".service"}) {
    std::string model = normalized_unit("connect", suffix);
    ASSERT_FALSE(model.empty());
    for (const std::string& program : kPrograms)
      EXPECT_EQ(normalized_unit(program, suffix), model) << "conf/systemd/oauth-" << program << suffix;
  }
}

TEST(Units, SocketsAreWhereTheNginxSnippetConnects) {
  std::string nginx = read_file(source_dir() + "/conf/nginx/oauth-fcgi.conf");
  for (const std::string& program : kPrograms) {
    std::string path = "/run/oauth-fcgi/" + program + ".sock";
    std::string socket = read_file(source_dir() + "/conf/systemd/oauth-" + program + ".socket");
    std::string service = read_file(source_dir() + "/conf/systemd/oauth-" + program + ".service");
    EXPECT_TRUE(contains(socket, "\nListenStream=" + path + "\n")) << program;
    EXPECT_TRUE(contains(socket, "\nSocketGroup=www-data\n") && contains(socket, "\nSocketMode=0660\n"))
        << program;
    EXPECT_TRUE(contains(nginx, "fastcgi_pass unix:" + path + ";")) << program;
    EXPECT_TRUE(contains(service, "\nExecStart=@PREFIX@/bin/oauth-" + program +
                                      " --config /etc/oauth-fcgi/oauth-fcgi.conf\n"))
        << program;
    EXPECT_TRUE(contains(service, "\nRequires=oauth-" + program + ".socket\n")) << program;
    for (const char* hardening :
         {"\nUser=oauth-fcgi\n", "\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n", "\nPrivateTmp=yes\n",
          "\n#StandardInput=socket\n"})
      EXPECT_TRUE(contains(service, hardening)) << program << ": " << hardening;
  }
}

TEST(Units, TheApacheAuthorizerSocketListensOnThePortTheApacheProviderNames) {
  std::string socket = read_file(source_dir() + "/conf/systemd/oauth-check-authz.socket");
  std::string provider = read_file(source_dir() + "/conf/apache/oauth-fcgi-authz-provider.conf");
  std::smatch m;
  std::vector<std::string> listens;
  for (const std::string& line : lines_of(socket))
    if (line.rfind("ListenStream=", 0) == 0) listens.push_back(line.substr(13));
  ASSERT_EQ(listens.size(), 1u) << "oauth-check takes exactly one socket";
  ASSERT_TRUE(std::regex_match(listens[0], m, std::regex(R"(127\.0\.0\.1:(\d+))")))
      << "loopback TCP, as mod_authnz_fcgi speaks TCP only: " << listens[0];
  std::string unit_port = m[1];
  ASSERT_TRUE(std::regex_search(
      provider, m,
      std::regex(R"(\nAuthnzFcgiDefineProvider authn oauth_check fcgi://127\.0\.0\.1:(\d+)/\n?)")))
      << provider;
  EXPECT_EQ(unit_port, m[1].str());
  EXPECT_TRUE(contains(socket, "\nAccept=no\n"));
  EXPECT_TRUE(contains(socket, "\nWantedBy=sockets.target\n"));
}

TEST(Units, TheApacheAuthorizerServiceIsOauthCheckOnItsOwnSocket) {
  // Comments and Description aside, oauth-check.service with the other socket's name.
  auto settings = [](const std::string& name) {
    std::istringstream in(read_file(source_dir() + "/conf/systemd/" + name));
    std::string out;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("#", 0) == 0 || line.rfind("Description=", 0) == 0) continue;
      for (size_t at = line.find("oauth-check-authz."); at != std::string::npos;
           at = line.find("oauth-check-authz.", at))
        line.replace(at, std::string("oauth-check-authz.").size(), "oauth-check.");
      out += line + "\n";
    }
    return out;
  };
  std::string authz = read_file(source_dir() + "/conf/systemd/oauth-check-authz.service");
  EXPECT_TRUE(contains(authz, "\nRequires=oauth-check-authz.socket\n")) << authz;
  EXPECT_TRUE(contains(authz, "\nAfter=oauth-check-authz.socket ")) << authz;
  EXPECT_EQ(settings("oauth-check-authz.service"), settings("oauth-check.service"));
}

TEST(Units, TheSocketFolderLetsTheWebServerGroupIn) {
  std::string tmpfiles = read_file(source_dir() + "/conf/systemd/oauth-fcgi.tmpfiles");
  EXPECT_TRUE(contains(tmpfiles, "\nd /run/oauth-fcgi 2750 oauth-fcgi www-data -\n")) << tmpfiles;
  // The .socket units' sockets are in it and www-data's.
  for (const std::string& program : kPrograms) {
    std::string socket = read_file(source_dir() + "/conf/systemd/oauth-" + program + ".socket");
    EXPECT_TRUE(contains(socket, "\nListenStream=/run/oauth-fcgi/")) << program;
    EXPECT_TRUE(contains(socket, "\nSocketGroup=www-data\n")) << program;
  }
}

// ---- make install -----------------------------------------------------------------

namespace {

std::pair<int, std::string> make_install(const std::string& destdir, const std::string& prefix) {
  return run({"make", "-C", source_dir(), "--no-print-directory", "install", "BUILD=" + bin_dir() + "/..",
              "DESTDIR=" + destdir, "PREFIX=" + prefix},
             {}, std::chrono::seconds(300));
}

// Every file under root, as "/path" relative to it.
std::set<std::string> files_under(const std::string& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (!e.is_directory()) out.insert(e.path().string().substr(root.size()));
  return out;
}

// The layout README "make install" describes, for a prefix and its unit folder.
std::set<std::string> expected_layout(const std::string& prefix, const std::string& unit_dir) {
  std::set<std::string> want = {prefix + "/bin/oauth-fcgi-smoke",
                                prefix + "/bin/oauth-fetch",
                                "/etc/oauth-fcgi/oauth-fcgi.conf.example",
                                prefix + "/lib/sysusers.d/oauth-fcgi.conf",
                                prefix + "/lib/tmpfiles.d/oauth-fcgi.conf",
                                unit_dir + "/oauth-check-authz.socket",
                                unit_dir + "/oauth-check-authz.service",
                                prefix + "/share/doc/oauth-fcgi/README.md",
                                prefix + "/share/doc/oauth-fcgi/oauth-fcgi.conf.example"};
  for (const std::string& p : kPrograms) {
    want.insert(prefix + "/bin/oauth-" + p);
    want.insert(unit_dir + "/oauth-" + p + ".socket");
    want.insert(unit_dir + "/oauth-" + p + ".service");
  }
  // The man pages: one per section, and an alias page for each program's name.
  want.insert(prefix + "/share/man/man8/oauth-fcgi.8");
  want.insert(prefix + "/share/man/man5/oauth-fcgi.conf.5");
  for (const std::string& p : kPrograms)
    want.insert(prefix + "/share/man/man8/oauth-" + p + ".8");
  want.insert(prefix + "/share/man/man8/oauth-fetch.8");
  want.insert(prefix + "/share/man/man8/oauth-fcgi-smoke.8");
  // Whatever snippets and reference pages the source tree has.
  auto each_file = [&](const std::string& dir, const std::string& extension, const std::string& to) {
    for (const auto& e : fs::directory_iterator(source_dir() + dir))
      if (e.path().extension() == extension) want.insert(to + e.path().filename().string());
  };
  each_file("/conf/apache", ".conf", "/etc/oauth-fcgi/apache/");
  each_file("/conf/nginx", ".conf", "/etc/oauth-fcgi/nginx/");
  each_file("/docs", ".md", prefix + "/share/doc/oauth-fcgi/docs/");
  return want;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s)
    out += x + "\n";
  return out;
}

// systemd-analyze verify, with --root: units found by name in root's unit path, their
// ExecStart checked inside root. It needs the system's targets (sysinit.target,
// sockets.target...) in root too, so they are copied in from the host.
std::pair<int, std::string> verify_units(const std::string& root, const std::vector<std::string>& units) {
  fs::create_directories(root + "/lib/systemd/system");
  for (const auto& e : fs::directory_iterator("/lib/systemd/system"))
    if (e.path().extension() == ".target")
      fs::copy_file(e.path(), root + "/lib/systemd/system/" + e.path().filename().string(),
                    fs::copy_options::skip_existing);
  std::vector<std::string> argv = {"systemd-analyze", "verify", "--root=" + root, "--man=no"};
  argv.insert(argv.end(), units.begin(), units.end());
  return run(argv);
}

// Every service: one per program, and oauth-check again for Apache on TCP.
std::vector<std::string> all_services() {
  std::vector<std::string> services;
  for (const std::string& p : kPrograms)
    services.push_back("oauth-" + p);
  services.push_back("oauth-check-authz");
  return services;
}

std::vector<std::string> all_units() {
  std::vector<std::string> units;
  for (const std::string& s : all_services()) {
    units.push_back(s + ".socket");
    units.push_back(s + ".service");
  }
  return units;
}

} // namespace

TEST(Install, MakeInstallPutsEveryFileWhereReadmeSaysAndNothingOutsideDestdir) {
  TempDir dest;
  std::string marker = dest.file("marker");
  std::ofstream(marker) << "before\n";
  sleep(1); // mtimes have one-second resolution on some file systems
  std::string root = dest.file("root");
  auto [code, out] = make_install(root, "/usr/local");
  ASSERT_EQ(code, 0) << out;

  std::set<std::string> got = files_under(root);
  std::set<std::string> want = expected_layout("/usr/local", "/usr/local/lib/systemd/system");
  EXPECT_EQ(joined(got), joined(want));

  // The programs run from there; the units name them and /etc/oauth-fcgi, no @PREFIX@ left.
  auto [vcode, vout] = run({root + "/usr/local/bin/oauth-check", "--version"});
  EXPECT_EQ(vcode, 0);
  EXPECT_EQ(vout.rfind("oauth-check ", 0), 0u) << vout;
  for (const std::string& p : kPrograms) {
    std::string service = read_file(root + "/usr/local/lib/systemd/system/oauth-" + p + ".service");
    EXPECT_TRUE(contains(service, "\nExecStart=/usr/local/bin/oauth-" + p +
                                      " --config /etc/oauth-fcgi/oauth-fcgi.conf\n"))
        << service;
    EXPECT_FALSE(contains(service, "@PREFIX@"));
    EXPECT_FALSE(
        contains(read_file(root + "/usr/local/lib/systemd/system/oauth-" + p + ".socket"), "@PREFIX@"));
  }
  // The Apache snippets that start the programs name them where they were installed.
  for (const char* snippet : {"oauth-fcgi-fcgid.conf", "oauth-fcgi-cgi.conf"}) {
    std::string text = read_file(root + "/etc/oauth-fcgi/apache/" + snippet);
    EXPECT_FALSE(contains(text, "@PREFIX@")) << snippet;
    EXPECT_TRUE(contains(text, "/usr/local/bin/oauth-connect")) << snippet;
  }
  EXPECT_FALSE(contains(read_file(root + "/usr/local/lib/sysusers.d/oauth-fcgi.conf"), "@PREFIX@"));
  EXPECT_FALSE(contains(read_file(root + "/usr/local/lib/tmpfiles.d/oauth-fcgi.conf"), "@PREFIX@"));
  std::string authz = read_file(root + "/usr/local/lib/systemd/system/oauth-check-authz.service");
  EXPECT_TRUE(
      contains(authz, "\nExecStart=/usr/local/bin/oauth-check --config /etc/oauth-fcgi/oauth-fcgi.conf\n"))
      << authz;
  EXPECT_TRUE(contains(read_file(root + "/usr/local/lib/sysusers.d/oauth-fcgi.conf"), "\nu oauth-fcgi "));
  struct stat st;
  ASSERT_EQ(stat((root + "/usr/local/bin/oauth-connect").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  ASSERT_EQ(stat((root + "/etc/oauth-fcgi/oauth-fcgi.conf.example").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  // Nothing was written outside DESTDIR (the build folder, /tmp and the like aside).
  auto [fcode, changed] =
      run({"sh", "-c",
           "find /etc /usr /opt /srv /var/lib /var/local -xdev -newer '" + marker + "' 2>/dev/null; true"});
  EXPECT_EQ(changed, "") << "written outside DESTDIR by make install";

  // make uninstall with the same DESTDIR removes every file it wrote.
  auto [ucode, uout] = run({"make", "-C", source_dir(), "--no-print-directory", "uninstall",
                            "BUILD=" + bin_dir() + "/..", "DESTDIR=" + root});
  EXPECT_EQ(ucode, 0) << uout;
  EXPECT_EQ(joined(files_under(root)), "");
}

TEST(Install, PrefixUsrPutsUnitsInLibSystemdSystem) {
  TempDir dest;
  auto [code, out] = make_install(dest.path(), "/usr");
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(joined(files_under(dest.path())), joined(expected_layout("/usr", "/lib/systemd/system")));
  EXPECT_TRUE(contains(read_file(dest.file("lib/systemd/system/oauth-profile.service")),
                       "\nExecStart=/usr/bin/oauth-profile --config /etc/oauth-fcgi/oauth-fcgi.conf\n"));
  auto [vcode, vout] = verify_units(dest.path(), all_units());
  EXPECT_EQ(vcode, 0) << vout;
  EXPECT_EQ(vout, "");
}

TEST(Install, InstalledUnitsPassSystemdAnalyzeVerifyAndSecurity) {
  ASSERT_TRUE(have("systemd-analyze")) << "scripts/install-deps installs systemd";
  TempDir dest;
  auto [code, out] = make_install(dest.path(), "/usr/local");
  ASSERT_EQ(code, 0) << out;
  // By name: found in /usr/local/lib/systemd/system, part of systemd's unit path.
  auto [vcode, vout] = verify_units(dest.path(), all_units());
  EXPECT_EQ(vcode, 0) << vout;
  EXPECT_EQ(vout, "") << "verify warns without failing (unknown keys, bad values): none allowed";

  // The hardening holds: exposure at most 2.5 of 10 ("OK") for each service.
  for (const std::string& s : all_services()) {
    auto [scode, sout] = run({"systemd-analyze", "security", "--offline=yes", "--root=" + dest.path(),
                              "--threshold=25", "--no-pager", s + ".service"});
    EXPECT_EQ(scode, 0) << sout;
    EXPECT_TRUE(contains(sout, "Overall exposure level for " + s + ".service")) << sout;
  }

  // The sysusers.d file makes the user the services run as (in root's /etc, a copy of ours).
  for (const char* f : {"passwd", "group", "shadow", "gshadow"})
    if (fs::exists(std::string("/etc/") + f))
      fs::copy_file(std::string("/etc/") + f, dest.file(std::string("etc/") + f));
  auto [ucode, uout] = run(
      {"systemd-sysusers", "--root=" + dest.path(), dest.file("usr/local/lib/sysusers.d/oauth-fcgi.conf")});
  EXPECT_EQ(ucode, 0) << uout;
  std::string passwd = read_file(dest.file("etc/passwd"));
  EXPECT_TRUE(contains(passwd, "\noauth-fcgi:x:")) << passwd;
  EXPECT_TRUE(contains(passwd, ":/usr/sbin/nologin\n")) << passwd;
  EXPECT_TRUE(contains(read_file(dest.file("etc/group")), "\noauth-fcgi:x:"));

  // And verify does fail here on a unit whose program is missing (it is not a no-op).
  std::string broken = dest.file("usr/local/lib/systemd/system/oauth-broken.service");
  std::ofstream(broken) << "[Service]\nExecStart=/usr/local/bin/oauth-nonexistent\n";
  auto [bcode, bout] = verify_units(dest.path(), {"oauth-broken.service"});
  EXPECT_NE(bcode, 0) << bout;
  EXPECT_TRUE(contains(bout, "oauth-nonexistent")) << bout;
}

TEST(Install, TmpfilesMakesTheSocketFolderWhereTheServiceUserListensForTheWebServer) {
  ASSERT_EQ(geteuid(), 0u) << "acts as the service user and as www-data: run as root";
  TempDir dest;
  auto [code, out] = make_install(dest.path(), "/usr/local");
  ASSERT_EQ(code, 0) << out;
  // The user first (in root's /etc, a copy of ours), then the folder, as at boot.
  for (const char* f : {"passwd", "group", "shadow", "gshadow"})
    if (fs::exists(std::string("/etc/") + f))
      fs::copy_file(std::string("/etc/") + f, dest.file(std::string("etc/") + f));
  auto [ucode, uout] = run(
      {"systemd-sysusers", "--root=" + dest.path(), dest.file("usr/local/lib/sysusers.d/oauth-fcgi.conf")});
  ASSERT_EQ(ucode, 0) << uout;
  auto [tcode, tout] = run({"systemd-tmpfiles", "--root=" + dest.path(), "--create",
                            dest.file("usr/local/lib/tmpfiles.d/oauth-fcgi.conf")});
  ASSERT_EQ(tcode, 0) << tout;

  std::smatch m;
  std::string passwd = read_file(dest.file("etc/passwd"));
  ASSERT_TRUE(std::regex_search(passwd, m, std::regex(R"(\noauth-fcgi:x:(\d+):(\d+):)"))) << passwd;
  uid_t user = static_cast<uid_t>(std::stoul(m[1]));
  gid_t user_group = static_cast<gid_t>(std::stoul(m[2]));
  gid_t www = group_id("www-data");
  std::string folder = dest.file("run/oauth-fcgi");
  struct stat st;
  ASSERT_EQ(lstat(folder.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 02750u);
  EXPECT_EQ(st.st_uid, user);
  EXPECT_EQ(st.st_gid, www);

  // oauth-connect as that user (not in group www-data), --listen with no socket flags:
  // the set-group-ID folder gives the socket to www-data, which may connect; others
  // may not even reach it.
  ASSERT_EQ(chmod(dest.path().c_str(), 0755), 0);
  Deployment d;
  ASSERT_EQ(chmod(d.dir().path().c_str(), 0711), 0);
  for (const char* f : {"oauth-fcgi.conf", "secret", "github.secret"})
    ASSERT_EQ(lchown(d.dir().file(f).c_str(), user, user_group), 0) << f;
  std::string sock = folder + "/connect.sock";
  std::string log = d.dir().file("connect.log");
  Process p({"setpriv", "--reuid=" + std::to_string(user), "--regid=" + std::to_string(user_group),
             "--clear-groups", bin_dir() + "/oauth-connect", "--config", d.config(), "--listen",
             "unix:" + sock},
            {}, log);
  ASSERT_TRUE(wait_until([&] { return socket_listens(sock); })) << read_file(log);
  ASSERT_EQ(lstat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, user);
  EXPECT_EQ(st.st_gid, www);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_TRUE(user_can_connect("www-data", sock));
  EXPECT_FALSE(user_can_connect("nobody", sock));
  expect_program_answers("connect", "unix:" + sock);
  EXPECT_EQ(p.stop(SIGTERM), 0) << read_file(log);
}

// ---- scripts/install-deps -----------------------------------------------------------

namespace {

// The package that ships a file, by dpkg -S; tries the /usr-merged twin of the path.
std::string package_of(const std::string& path) {
  std::vector<std::string> tries = {path, fs::weakly_canonical(path).string()};
  for (const std::string& p : std::vector<std::string>(tries))
    tries.push_back(p.rfind("/usr/", 0) == 0 ? p.substr(4) : "/usr" + p);
  for (const std::string& p : tries) {
    auto [code, out] = run({"dpkg", "-S", p});
    if (code == 0) return out.substr(0, out.find_first_of(":,"));
  }
  return "";
}

// Each package that ships a library one of the built programs needs (readelf -d:
// NEEDED), with the library: the programs' own links, not their libraries' libraries.
std::map<std::string, std::string> packages_the_programs_link() {
  std::map<std::string, std::string> out;
  std::map<std::string, std::string> package_at; // dpkg -S is slow; the programs share libraries
  std::vector<std::string> programs = {"oauth-fetch"};
  for (const std::string& p : kPrograms)
    programs.push_back("oauth-" + p);
  for (const std::string& program : programs) {
    std::string path = bin_dir() + "/" + program;
    auto [rcode, dynamic] = run({"readelf", "-d", path});
    EXPECT_EQ(rcode, 0) << dynamic;
    auto [lcode, ldd] = run({"ldd", path});
    EXPECT_EQ(lcode, 0) << ldd;
    // ldd: "\tlibfcgi.so.0 => /lib/x86_64-linux-gnu/libfcgi.so.0 (0x...)"
    std::map<std::string, std::string> found;
    for (const std::string& line : lines_of(ldd)) {
      std::istringstream words(line);
      std::string lib, arrow, where;
      if (words >> lib >> arrow >> where && arrow == "=>") found[lib] = where;
    }
    // readelf -d: " 0x... (NEEDED)  Shared library: [libfcgi.so.0]"
    for (const std::string& line : lines_of(dynamic)) {
      size_t at = line.find("(NEEDED)");
      if (at != std::string::npos) at = line.find('[', at);
      if (at == std::string::npos) continue;
      std::string lib = line.substr(at + 1, line.rfind(']') - at - 1);
      std::string where = found[lib];
      EXPECT_FALSE(where.empty()) << program << " needs " << lib << ", which ldd does not find";
      if (!where.empty() && !package_at.count(where)) package_at[where] = package_of(where);
      std::string package = where.empty() ? "" : package_at[where];
      EXPECT_FALSE(package.empty()) << lib << " at " << where << " is in no package";
      if (!package.empty()) out[package] = lib;
    }
  }
  return out;
}

} // namespace

TEST(InstallDeps, TheRuntimeRoleIsWhatTheProgramsLinkAndNoServer) {
  std::string script = source_dir() + "/scripts/install-deps";
  auto [code, out] = run({script, "--runtime", "--print"});
  ASSERT_EQ(code, 0) << out;
  std::vector<std::string> runtime = lines_of(out);
  ASSERT_FALSE(runtime.empty());
  for (const std::string& p : runtime)
    for (const char* server : {"nginx", "apache2", "redis"})
      EXPECT_NE(p.rfind(server, 0), 0u) << p << ": a host that only runs the programs needs no server";

  std::map<std::string, std::string> linked = packages_the_programs_link();
  EXPECT_TRUE(linked.count("libfcgi0ldbl")) << "the lookup works: libfcgi is linked";
  for (const auto& [package, lib] : linked)
    EXPECT_NE(std::find(runtime.begin(), runtime.end(), package), runtime.end())
        << package << " (" << lib << ") is linked but not in install-deps --runtime";

  // The build role installs the runtime role too, and what builds the man pages.
  auto [bcode, bout] = run({script, "--print"});
  ASSERT_EQ(bcode, 0) << bout;
  std::vector<std::string> build = lines_of(bout);
  for (const std::string& p : runtime)
    EXPECT_NE(std::find(build.begin(), build.end(), p), build.end()) << p;
  for (const char* p : {"cmake", "libfcgi-dev", "redis-server", "nginx-light", "go-md2man"})
    EXPECT_NE(std::find(build.begin(), build.end(), p), build.end()) << p;
  EXPECT_EQ(run({script, "--print", "--runtime"}).second, out) << "flags in either order";
}

TEST(InstallDeps, HelpAndBadArguments) {
  std::string script = source_dir() + "/scripts/install-deps";
  auto [code, out] = run({script, "--help"});
  EXPECT_EQ(code, 0);
  for (const char* s : {"Usage: install-deps", "--runtime", "--print"})
    EXPECT_TRUE(contains(out, s)) << out;
  auto [bcode, bout] = run({script, "--frobnicate"});
  EXPECT_EQ(bcode, 2);
  EXPECT_TRUE(contains(bout, "unknown argument \"--frobnicate\"")) << bout;
}

// ---- scripts/smoke ------------------------------------------------------------------

namespace {

std::pair<int, std::string> smoke(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {source_dir() + "/scripts/smoke", "--timeout", "5"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, {}, std::chrono::seconds(60));
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size()))
    ++n;
  return n;
}

// `make demo` on a free port, stopped (demo-stop) by the destructor.
class Demo {
public:
  Demo() : state_(dir_.file("demo")), port_(free_port()) {
    auto [code, out] = run({"bash", "-c",
                            "cd " + shell_quote(source_dir()) + " && DEMO_STATE=" + shell_quote(state_) +
                                " DEMO_PORT=" + std::to_string(port_) +
                                " BUILD=" + shell_quote(bin_dir() + "/..") + " scripts/demo"},
                           {}, std::chrono::seconds(300));
    ok_ = code == 0;
    out_ = out;
  }
  ~Demo() {
    run({"bash", "-c",
         "cd " + shell_quote(source_dir()) + " && DEMO_STATE=" + shell_quote(state_) + " scripts/demo-stop"});
  }
  bool ok() const { return ok_; }
  const std::string& output() const { return out_; }
  int port() const { return port_; }

private:
  TempDir dir_;
  std::string state_;
  int port_;
  bool ok_ = false;
  std::string out_;
};

} // namespace

TEST(Smoke, HelpAndUsage) {
  auto [code, out] = smoke({"--help"});
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(contains(out, "Usage: smoke")) << out;
  EXPECT_EQ(smoke({}).first, 2);
  EXPECT_EQ(smoke({"www.example.com"}).first, 2);
}

TEST(Smoke, PassesAgainstTheDemoAndFailsWhenItsBaseUrlIsWrong) {
  Demo demo;
  ASSERT_TRUE(demo.ok()) << demo.output();
  std::string base = "http://127.0.0.1:" + std::to_string(demo.port());

  auto [code, out] = smoke({base, "github"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(count(out, "\nPASS ") + (out.rfind("PASS ", 0) == 0), 4u) << out;
  EXPECT_TRUE(contains(out, "PASS connect: 302 to http://127.0.0.1:")) << out;
  EXPECT_TRUE(contains(out, "PASS check: not reachable from outside (404)")) << out;
  EXPECT_TRUE(contains(out, "smoke: all 4 steps passed")) << out;

  // Without a provider: the demo's chooser page names github first.
  auto [code2, out2] = smoke({base});
  EXPECT_EQ(code2, 0) << out2;

  // A BASE_URL that is not the config's public_url: the redirect_uri gives it away.
  auto [code3, out3] = smoke({"http://localhost:" + std::to_string(demo.port()), "github"});
  EXPECT_EQ(code3, 1) << out3;
  EXPECT_TRUE(contains(out3, "FAIL connect: redirect_uri is \"" + base + "/auth/callback/github\"")) << out3;
  EXPECT_TRUE(contains(out3, "public_url in the config must be http://localhost:")) << out3;

  // A provider the config does not have.
  auto [code4, out4] = smoke({base, "nosuch"});
  EXPECT_EQ(code4, 1) << out4;
  EXPECT_TRUE(contains(out4, "FAIL connect: GET /auth/connect/nosuch answered 404, not 302")) << out4;
}

TEST(Smoke, FailsWhenNothingAnswers) {
  auto [code, out] = smoke({"http://127.0.0.1:" + std::to_string(free_port()), "github"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_EQ(count(out, "FAIL "), 4u) << out;
  EXPECT_TRUE(contains(out, "smoke: 4 of 4 steps failed")) << out;
}

TEST(Smoke, FailsAgainstNginxWithoutThePrograms) {
  // The shipped nginx snippet, but no program behind its sockets: every route is a 502.
  TempDir dir;
  int port = free_port();
  std::string snippet = read_file(source_dir() + "/conf/nginx/oauth-fcgi.conf");
  for (size_t at = snippet.find("unix:/run/oauth-fcgi/"); at != std::string::npos;
       at = snippet.find("unix:/run/oauth-fcgi/", at))
    snippet.replace(at, std::string("unix:/run/oauth-fcgi/").size(), "unix:" + dir.path() + "/");
  dir.write("oauth-fcgi-nginx.conf", snippet);
  dir.write("fastcgi_params", read_file("/etc/nginx/fastcgi_params"));
  std::string conf =
      dir.write("nginx.conf", std::string(getuid() == 0 ? "user root;\n" : "") +
                                  "worker_processes 1;\n"
                                  "error_log " +
                                  dir.file("error.log") + ";\npid " + dir.file("nginx.pid") +
                                  ";\nevents { worker_connections 64; }\n"
                                  "http {\n  access_log off;\n"
                                  "  client_body_temp_path " +
                                  dir.file("body") + ";\n  fastcgi_temp_path " + dir.file("fastcgi") +
                                  ";\n  proxy_temp_path " + dir.file("proxy") + ";\n  uwsgi_temp_path " +
                                  dir.file("uwsgi") + ";\n  scgi_temp_path " + dir.file("scgi") +
                                  ";\n  server {\n    listen 127.0.0.1:" + std::to_string(port) +
                                  ";\n    include " + dir.file("oauth-fcgi-nginx.conf") + ";\n  }\n}\n");
  Process nginx({"nginx", "-p", dir.path() + "/", "-c", conf, "-g", "daemon off;"}, {},
                dir.file("nginx.log"));
  ASSERT_TRUE(wait_until([&] { return port_open(port); }))
      << read_file(dir.file("nginx.log")) << read_file(dir.file("error.log"));
  auto [code, out] = smoke({"http://127.0.0.1:" + std::to_string(port), "github"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(contains(out, "FAIL connect: GET /auth/connect/github answered 502, not 302")) << out;
  EXPECT_TRUE(contains(out, "FAIL profile: GET /auth/profile without a session answered 502, not 401"))
      << out;
}
