// Deploying the programs as README says: each program under systemd socket activation
// (systemd-socket-activate: fd 3 + LISTEN_FDS, and --inetd: fd 0 as StandardInput=socket
// gives it), under spawn-fcgi (fd 0); `make install` into a DESTDIR and the installed
// units through `systemd-analyze verify`; the shipped units against the nginx snippet;
// and scripts/smoke against `make demo` and against deployments that are broken.
#include <gtest/gtest.h>

#include <cstdio>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "fcgi_client.hpp"
#include "test_util.hpp"

using namespace testutil;
using fcgitest::CgiResponse;
using fcgitest::nginx_params;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kPrograms = {"connect", "callback", "profile", "logout", "check"};

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

bool have(const std::string& program) {
  return run({"sh", "-c", "command -v " + program}).first == 0;
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

// ---- the shipped units ------------------------------------------------------------

namespace {

// A unit with its program's name, socket path and route taken out, to compare the five.
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

TEST(Units, TheFiveProgramsHaveTheSameUnitsButForTheirName) {
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
                                "/etc/oauth-fcgi/nginx/oauth-fcgi.conf",
                                prefix + "/lib/sysusers.d/oauth-fcgi.conf",
                                prefix + "/share/doc/oauth-fcgi/README.md",
                                prefix + "/share/doc/oauth-fcgi/oauth-fcgi.conf.example"};
  for (const std::string& p : kPrograms) {
    want.insert(prefix + "/bin/oauth-" + p);
    want.insert(unit_dir + "/oauth-" + p + ".socket");
    want.insert(unit_dir + "/oauth-" + p + ".service");
  }
  // Whatever Apache snippets the source tree has.
  std::string apache = source_dir() + "/conf/apache";
  if (fs::is_directory(apache))
    for (const auto& e : fs::directory_iterator(apache))
      if (e.path().extension() == ".conf")
        want.insert("/etc/oauth-fcgi/apache/" + e.path().filename().string());
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

std::vector<std::string> all_units() {
  std::vector<std::string> units;
  for (const std::string& p : kPrograms) {
    units.push_back("oauth-" + p + ".socket");
    units.push_back("oauth-" + p + ".service");
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
  EXPECT_FALSE(contains(read_file(root + "/usr/local/lib/sysusers.d/oauth-fcgi.conf"), "@PREFIX@"));
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
  for (const std::string& p : kPrograms) {
    auto [scode, sout] = run({"systemd-analyze", "security", "--offline=yes", "--root=" + dest.path(),
                              "--threshold=25", "--no-pager", "oauth-" + p + ".service"});
    EXPECT_EQ(scode, 0) << sout;
    EXPECT_TRUE(contains(sout, "Overall exposure level for oauth-" + p + ".service")) << sout;
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
    auto [code, out] =
        run({"bash", "-c",
             "cd " + source_dir() + " && DEMO_STATE=" + state_ + " DEMO_PORT=" + std::to_string(port_) +
                 " BUILD=" + bin_dir() + "/.. scripts/demo"},
            {}, std::chrono::seconds(300));
    ok_ = code == 0;
    out_ = out;
  }
  ~Demo() { run({"bash", "-c", "cd " + source_dir() + " && DEMO_STATE=" + state_ + " scripts/demo-stop"}); }
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
