// The serve loop: options, handle_request in process, and the built echo program
// (tests/support/echo_program.cpp) in each of the four run modes.
#include "serve.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "handler_harness.hpp"
#include "memory_store.hpp"

#include <cstring>
#include <fstream>
#include <thread>

#include "fcgi_client.hpp"
#include "test_util.hpp"

using namespace oauthfcgi;
using namespace std::chrono_literals;
using fcgitest::CgiResponse;
using fcgitest::FcgiClient;
using fcgitest::nginx_params;
using fcgitest::parse_cgi_response;

namespace {

std::string echo_path() {
  return testutil::bin_dir() + "/../tests/oauth-test-echo";
}

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size()))
    ++n;
  return n;
}

// A valid config for the echo program with small limits; Redis on a closed port.
class EchoConfig {
public:
  explicit EchoConfig(const std::string& extra = {}) {
    dir_.write("secret", std::string(40, 'k'));
    std::string text = "[server]\n"
                       "public_url = http://localhost:8080\n"
                       "secret_file = secret\n"
                       "threads = 2\n"
                       "\n"
                       "[redis]\n"
                       "url = redis://127.0.0.1:" +
                       std::to_string(testutil::free_port()) +
                       "/0\n"
                       "timeout_ms = 200\n"
                       "\n"
                       "[http]\n"
                       "timeout_ms = 2000\n"
                       "\n"
                       "[limits]\n"
                       "max_query_bytes = 100\n"
                       "max_cookie_bytes = 100\n"
                       "max_header_bytes = 1000\n"
                       "max_body_bytes = 100\n"
                       "\n"
                       "[provider github]\n"
                       "type = github\n"
                       "client_id = abc\n"
                       "client_secret = xyz\n";
    extra_line_ = static_cast<int>(count(text, "\n")) + 1;
    path_ = dir_.write("oauth-fcgi.conf", text + extra);
  }
  // "FILE:LINE" of the first line of `extra`.
  std::string extra_at() const { return path_ + ":" + std::to_string(extra_line_); }
  const std::string& path() const { return path_; }
  const testutil::TempDir& dir() const { return dir_; }
  std::string log() const { return testutil::read_file(dir_.file("log")); }
  std::string log_file() const { return dir_.file("log"); }

private:
  testutil::TempDir dir_;
  std::string path_;
  int extra_line_ = 0;
};

bool can_connect(const std::string& address) {
  try {
    FcgiClient c(address);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// A child started with a listening socket on a given fd (modes 2 and 3), stopped by
// the destructor. testutil::Process can't hand over descriptors.
class SocketChild {
public:
  SocketChild(const std::vector<std::string>& argv, int listen_fd, int target_fd,
              const std::string& log_file) {
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int log = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(log, 1);
      dup2(log, 2);
      if (target_fd != 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
      }
      if (listen_fd != target_fd) {
        dup2(listen_fd, target_fd);
        close(listen_fd);
      }
      if (target_fd == 3) {
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
      }
      std::vector<char*> args;
      std::vector<std::string> copy = argv;
      for (auto& a : copy)
        args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~SocketChild() {
    if (pid_ > 0 && stop(SIGTERM, 5s) == -1000) stop(SIGKILL, 5s);
  }
  pid_t pid() const { return pid_; }
  // Exit status, -signal, or -1000 on timeout.
  int stop(int sig, std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return status_;
    kill(pid_, sig);
    return wait(timeout);
  }
  int wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return status_;
    int st = 0;
    if (!testutil::wait_until([&] { return waitpid(pid_, &st, WNOHANG) == pid_; }, timeout)) return -1000;
    pid_ = -1;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return status_;
  }

private:
  pid_t pid_ = -1;
  int status_ = -1;
};

int listening_unix_socket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

struct CgiRun {
  int status = -1;
  std::string out;
  std::string err;
};

// Runs the program as a CGI script: env added to ours, body on stdin, stdout apart from stderr.
CgiRun run_cgi(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& body, const std::string& err_file) {
  int in[2], out[2];
  EXPECT_EQ(pipe(in), 0);
  EXPECT_EQ(pipe(out), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(err, 2);
    close(in[1]);
    close(out[0]);
    for (const auto& [k, v] : env)
      setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (auto& a : copy)
      args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  (void)signal(SIGPIPE, SIG_IGN);
  if (!body.empty()) {
    ssize_t n = write(in[1], body.data(), body.size());
    EXPECT_EQ(n, static_cast<ssize_t>(body.size()));
  }
  close(in[1]);
  CgiRun r;
  char buf[65536];
  while (true) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) break;
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    r.out.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.err = testutil::read_file(err_file);
  return r;
}

void expect_echo(const CgiResponse& r, const std::string& route, const std::string& query,
                 const std::string& cookie = "(none)") {
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(contains(r.body, "route=" + route + "\n")) << r.body;
  EXPECT_TRUE(contains(r.body, "query=" + query + "\n")) << r.body;
  EXPECT_TRUE(contains(r.body, "cookie=" + cookie + "\n")) << r.body;
  EXPECT_EQ(r.header_count("Cache-Control"), 1u);
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
}

// The echo program serving FastCGI on its own socket.
class ListeningEcho {
public:
  ListeningEcho(const EchoConfig& config, const std::string& address, int threads = 4,
                std::vector<std::string> more = {})
      : address_(address), proc_(args(config, address, threads, std::move(more)), {}, config.log_file()) {
    ready_ = testutil::wait_until([&] { return can_connect(address_); }, 10s);
  }
  bool ready() const { return ready_; }
  const std::string& address() const { return address_; }
  testutil::Process& process() { return proc_; }

private:
  static std::vector<std::string> args(const EchoConfig& config, const std::string& address, int threads,
                                       std::vector<std::string> more) {
    std::vector<std::string> a = {echo_path(), "--config",  config.path(),          "--listen",
                                  address,     "--threads", std::to_string(threads)};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  std::string address_;
  testutil::Process proc_;
  bool ready_ = false;
};

// --- parse_options -----------------------------------------------------------

Result<Options> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "prog");
  return parse_options(static_cast<int>(args.size()), args.data());
}

// A Store and an HttpClient that fail every call: handle_request tests need neither.
// Every store call fails: these tests never reach Redis.
struct NoStore : testutil::MemoryStore {
  NoStore() { set_unavailable(true); }
};

class NoHttp : public HttpClient {
public:
  Result<HttpResponse> send(const HttpRequest&) override {
    return make_error(ErrorKind::provider_error, "no HTTP in this test");
  }
};

struct Harness {
  Config config;
  Keys keys;
  NoStore store;
  NoHttp http;
  Log log{"oauth-test", LogLevel::debug, LogFormat::text};
  testutil::LogLines logged;
  Harness() { logged.capture(log); }
  Response run(const Program& program, Request::Env env) {
    Context ctx{config, keys, store, http, log, system_clock(), system_random()};
    return handle_request(program, Request(std::move(env)), ctx);
  }
};

} // namespace

TEST(Options, DefaultsAndValues) {
  setenv("OAUTH_FCGI_CONFIG", "/from/env.conf", 1);
  auto o = parse({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->config_path, "/from/env.conf");
  EXPECT_FALSE(o->threads.has_value());
  EXPECT_TRUE(o->listen.empty());
  unsetenv("OAUTH_FCGI_CONFIG");
  EXPECT_EQ(parse({})->config_path, "/etc/oauth-fcgi/oauth-fcgi.conf");

  o = parse({"--config", "/a.conf", "--threads", "16", "--listen", "unix:/run/x.sock", "--check-config"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->config_path, "/a.conf");
  EXPECT_EQ(o->threads, 16);
  EXPECT_EQ(o->listen, "unix:/run/x.sock");
  EXPECT_TRUE(o->check_config);
}

TEST(Options, EqualsFormsWork) {
  auto o = parse({"--config=/b.conf", "--threads=3", "--listen=127.0.0.1:9001", "--version"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->config_path, "/b.conf");
  EXPECT_EQ(o->threads, 3);
  EXPECT_EQ(o->listen, "127.0.0.1:9001");
  EXPECT_TRUE(o->version);
  EXPECT_TRUE(parse({"--listen=[::1]:9001"}).ok());
  EXPECT_TRUE(parse({"--listen=localhost:9001"}).ok());
  EXPECT_TRUE(parse({"--help"})->help);
  EXPECT_TRUE(parse({"-h"})->help);
}

TEST(Options, MaxThreadsIsTheCeilingOfThePool) {
  auto o = parse({"--max-threads", "4096", "--threads=2"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->max_threads, 4096);
  EXPECT_EQ(o->threads, 2);
  EXPECT_EQ(parse({"--max-threads=1"})->max_threads, 1);
  EXPECT_FALSE(parse({})->max_threads.has_value());
  for (const char* bad : {"0", "4097", "-1", "x", ""}) {
    auto refused = parse({"--max-threads", bad});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().kind, ErrorKind::config);
  }
  EXPECT_EQ(parse({"--max-threads", "0"}).error().reason,
            "--max-threads wants a number from 1 to 4096, not \"0\" (see --help)");
}

TEST(Options, UnknownOptionIsAConfigError) {
  auto o = parse({"--frobnicate"});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().kind, ErrorKind::config);
  EXPECT_EQ(o.error().reason, "unknown option --frobnicate (see --help)");
}

TEST(Options, BadValuesAreRefused) {
  for (auto args : std::vector<std::vector<const char*>>{{"--threads", "0"},
                                                         {"--threads", "257"},
                                                         {"--threads", "4x"},
                                                         {"--threads=-1"},
                                                         {"--threads"},
                                                         {"--config"},
                                                         {"--config="},
                                                         {"--listen", "nowhere"},
                                                         {"--listen", "unix:"},
                                                         {"--listen", "127.0.0.1:0"},
                                                         {"--listen", "127.0.0.1:70000"},
                                                         {"--listen", "::1:9000"},
                                                         {"--help=yes"},
                                                         {"stray"}}) {
    auto o = parse(args);
    EXPECT_FALSE(o.ok()) << args[0];
    if (!o.ok()) {
      EXPECT_TRUE(contains(o.error().reason, "(see --help)")) << o.error().reason;
    }
  }
  EXPECT_TRUE(parse({"--threads", "256"}).ok());
  EXPECT_TRUE(parse({"--threads", "1"}).ok());
}

TEST(Options, SocketGroupAndModeGoWithAUnixListen) {
  auto o = parse({"--listen", "unix:/run/x.sock"});
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->socket_group.has_value());
  EXPECT_FALSE(o->socket_mode.has_value());

  o = parse({"--socket-group", "root", "--socket-mode", "0640", "--listen", "unix:/run/x.sock"});
  ASSERT_TRUE(o.ok()) << o.error().reason;
  EXPECT_EQ(o->socket_group, gid_t{0});
  EXPECT_EQ(o->socket_mode, mode_t{0640});
  o = parse({"--listen=unix:/run/x.sock", "--socket-group=0", "--socket-mode=600"});
  ASSERT_TRUE(o.ok()) << o.error().reason;
  EXPECT_EQ(o->socket_group, gid_t{0});
  EXPECT_EQ(o->socket_mode, mode_t{0600});
}

TEST(Options, SocketGroupAndModeErrorsSayWhatIsWrong) {
  struct Case {
    std::vector<const char*> args;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {{"--socket-group", "root"}, "--socket-group applies only to --listen unix:PATH (see --help)"},
           {{"--listen", "127.0.0.1:9105", "--socket-mode", "0660"},
            "--socket-mode applies only to --listen unix:PATH (see --help)"},
           {{"--listen", "unix:/run/x.sock", "--socket-mode", "0668"},
            "--socket-mode wants an octal mode from 0000 to 0777, e.g. 0660, not \"0668\" (see --help)"},
           {{"--listen", "unix:/run/x.sock", "--socket-mode", "1660"},
            "--socket-mode wants an octal mode from 0000 to 0777, e.g. 0660, not \"1660\" (see --help)"},
           {{"--listen", "unix:/run/x.sock", "--socket-mode="}, "--socket-mode needs a value (see --help)"},
           {{"--listen", "unix:/run/x.sock", "--socket-group", "no-such-group-here"},
            "--socket-group: no group \"no-such-group-here\" on this system (see getent group; a number "
            "works too) (see --help)"},
           {{"--listen", "unix:/run/x.sock", "--socket-group"},
            "--socket-group needs a value (see --help)"}}) {
    auto o = parse(c.args);
    ASSERT_FALSE(o.ok()) << c.reason;
    EXPECT_EQ(o.error().kind, ErrorKind::config);
    EXPECT_EQ(o.error().reason, c.reason);
  }
}

TEST(Usage, NamesEveryFlagModeAndExample) {
  Program p = catch_all_program("oauth-profile", "serves /auth/profile", nullptr, ErrorStyle::json);
  std::string u = usage_text(p);
  for (const char* s :
       {"oauth-profile", "serves /auth/profile", "--config", "--threads", "--listen", "--socket-group GROUP",
        "--socket-mode MODE", "default 0660", "--check-config", "--version", "--help", "OAUTH_FCGI_CONFIG",
        "LISTEN_FDS", "CGI", "spawn-fcgi", "--listen unix:/run/oauth-fcgi/"})
    EXPECT_TRUE(contains(u, s)) << s;
}

// --- handle_request ------------------------------------------------------------

TEST(HandleRequest, CallsHandlerAndLogsOneLine) {
  Harness h;
  Program p = catch_all_program("oauth-test", "", [](const Request& r, Context& ctx) {
    Response resp;
    resp.body = r.route() + " " + ctx.log.request_id();
    return resp;
  });
  Response r = h.run(p, {{"SCRIPT_NAME", "/auth/x"},
                         {"QUERY_STRING", "code=SECRETCODE"},
                         {"HTTP_COOKIE", "oauth_session=SECRETCOOKIE"}});
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(h.logged.lines().size(), 1u);
  const std::string& line = h.logged.lines()[0];
  EXPECT_TRUE(contains(line, "event=request")) << line;
  EXPECT_TRUE(contains(line, "method=GET")) << line;
  EXPECT_TRUE(contains(line, "route=/auth/x")) << line;
  EXPECT_TRUE(contains(line, "status=200")) << line;
  EXPECT_TRUE(contains(line, "duration_ms=")) << line;
  EXPECT_FALSE(contains(line, "SECRET")) << line;
  // The handler saw a request id, the same one as the log line.
  std::string id = r.body.substr(r.body.find(' ') + 1);
  EXPECT_EQ(id.size(), 16u);
  EXPECT_TRUE(contains(line, "req=" + id)) << line;
}

TEST(HandleRequest, EachRequestGetsItsOwnId) {
  Harness h;
  Program p = catch_all_program("oauth-test", "", [](const Request&, Context& ctx) {
    Response r;
    r.body = ctx.log.request_id();
    return r;
  });
  EXPECT_NE(h.run(p, {}).body, h.run(p, {}).body);
}

TEST(HandleRequest, ExceptionBecomes500InEachStyle) {
  Harness h;
  auto thrower = [](const Request&, Context&) -> Response { throw std::runtime_error("kaboom"); };
  Program html = catch_all_program("oauth-test", "", thrower, ErrorStyle::html);
  Response r = h.run(html, {});
  EXPECT_EQ(r.status, 500);
  EXPECT_TRUE(contains(r.body, "<!DOCTYPE html>"));
  EXPECT_TRUE(contains(r.body, "href=\"/auth/connect\""));
  EXPECT_FALSE(contains(r.body, "kaboom")); // details go to the log only
  EXPECT_TRUE(contains(h.logged.all(), "kaboom"));

  Program json = catch_all_program("oauth-test", "", thrower, ErrorStyle::json);
  r = h.run(json, {});
  EXPECT_EQ(r.status, 500);
  EXPECT_TRUE(contains(r.body, "\"error\":\"internal\""));

  Program bare = catch_all_program(
      "oauth-test", "", [](const Request&, Context&) -> Response { throw 42; }, ErrorStyle::status_only);
  r = h.run(bare, {});
  EXPECT_EQ(r.status, 500);
  EXPECT_TRUE(r.body.empty());

  Program none = catch_all_program("oauth-test", "", nullptr, ErrorStyle::status_only);
  EXPECT_EQ(h.run(none, {}).status, 500);
}

TEST(HandleRequest, LimitsAreCheckedBeforeTheHandler) {
  Harness h;
  h.config.limits.max_query_bytes = 10;
  bool called = false;
  Program p = catch_all_program(
      "oauth-test", "",
      [&](const Request&, Context&) {
        called = true;
        return Response();
      },
      ErrorStyle::json);
  Response r = h.run(p, {{"QUERY_STRING", std::string(11, 'q')}});
  EXPECT_FALSE(called);
  EXPECT_EQ(r.status, 414);
  EXPECT_TRUE(contains(r.body, "\"error\":\"uri_too_long\""));
  EXPECT_EQ(h.run(p, {{"HTTP_COOKIE", std::string(9000, 'c')}}).status, 431);
  EXPECT_EQ(h.run(p, {{"CONTENT_LENGTH", "70000"}}).status, 413);
  EXPECT_EQ(h.run(p, {{"CONTENT_LENGTH", "x"}}).status, 400);
  EXPECT_FALSE(called);
  EXPECT_TRUE(contains(h.logged.all(), "status=414"));
}

TEST(HandleRequest, InvalidStatusFromHandlerBecomes500) {
  Harness h;
  Program p = catch_all_program(
      "oauth-test", "", [](const Request&, Context&) { return Response::empty(0); }, ErrorStyle::status_only);
  EXPECT_EQ(h.run(p, {}).status, 500);
}

// --- the echo program: flags and config -------------------------------------

TEST(EchoProgram, HelpAndVersion) {
  auto [code, out] = testutil::run({echo_path(), "--help"});
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(contains(out, "Usage: oauth-test-echo")) << out;
  EXPECT_TRUE(contains(out, "--listen unix:/run/oauth-fcgi/")) << out;
  auto [vcode, vout] = testutil::run({echo_path(), "--version"});
  EXPECT_EQ(vcode, 0);
  EXPECT_EQ(vout, std::string("oauth-test-echo ") + kVersion + "\n");
}

TEST(EchoProgram, BadFlagExitsTwo) {
  auto [code, out] = testutil::run({echo_path(), "--bogus"});
  EXPECT_EQ(code, 2);
  EXPECT_TRUE(contains(out, "unknown option --bogus (see --help)")) << out;
  EXPECT_EQ(testutil::run({echo_path(), "--threads", "0"}).first, 2);
  EXPECT_EQ(testutil::run({echo_path(), "--listen", "garbage"}).first, 2);
  // The socket flags' mistakes are flag mistakes too: exit 2, before any config is read.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--socket-mode", "0660"},
        {"--listen", "127.0.0.1:9105", "--socket-group", "www-data"},
        {"--listen", "unix:/tmp/x.sock", "--socket-mode", "888"},
        {"--listen", "unix:/tmp/x.sock", "--socket-group", "no-such-group-here"}}) {
    std::vector<std::string> argv = {echo_path(), "--config", "/nonexistent.conf"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto [c, o] = testutil::run(argv);
    EXPECT_EQ(c, 2) << o;
    EXPECT_TRUE(contains(o, "oauth-test-echo: --socket-")) << o;
    EXPECT_FALSE(contains(o, "nonexistent.conf")) << o;
  }
}

TEST(EchoProgram, CheckConfigOkWarnsWhenRedisIsDown) {
  EchoConfig config;
  auto [code, out] = testutil::run({echo_path(), "--config", config.path(), "--check-config"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(contains(out, "oauth-test-echo: " + config.path() + ": ok")) << out;
  EXPECT_TRUE(contains(out, "WARNING: Redis at 127.0.0.1:")) << out;
}

TEST(EchoProgram, CheckConfigReportsProblems) {
  EchoConfig config("no_such_key = 1\n");
  auto [code, out] = testutil::run({echo_path(), "--config", config.path(), "--check-config"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(contains(out, config.extra_at())) << out;
  EXPECT_FALSE(contains(out, ": ok")) << out;

  auto [mcode, mout] =
      testutil::run({echo_path(), "--config", config.dir().file("missing.conf"), "--check-config"});
  EXPECT_EQ(mcode, 1);
  EXPECT_TRUE(contains(mout, "missing.conf")) << mout;
}

TEST(EchoProgram, BadConfigExitsOneWithFileAndLine) {
  EchoConfig config("no_such_key = 1\n");
  std::string sock = config.dir().file("s.sock");
  auto [code, out] = testutil::run({echo_path(), "--config", config.path(), "--listen", "unix:" + sock});
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(contains(out, config.extra_at())) << out;
  EXPECT_FALSE(can_connect("unix:" + sock));
}

TEST(EchoProgram, BadConfigUnderCgiAnswersAPlain500) {
  EchoConfig config("no_such_key = 1\n");
  CgiRun r =
      run_cgi({echo_path(), "--config", config.path()},
              {{"GATEWAY_INTERFACE", "CGI/1.1"}, {"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/auth/x"}}, "",
              config.dir().file("err"));
  EXPECT_EQ(r.status, 1);
  CgiResponse resp = parse_cgi_response(r.out);
  ASSERT_TRUE(resp.ok) << r.out;
  EXPECT_EQ(resp.status, 500);
  EXPECT_TRUE(contains(resp.body, "misconfigured"));
  EXPECT_FALSE(contains(resp.body, "no_such_key"));
  EXPECT_TRUE(contains(r.err, config.extra_at())) << r.err;
}

// --- the echo program: the four run modes ------------------------------------

TEST(EchoProgram, ServesOnItsOwnUnixSocket) {
  EchoConfig config;
  std::string sock = config.dir().file("echo.sock");
  ListeningEcho echo(config, "unix:" + sock);
  ASSERT_TRUE(echo.ready()) << config.log();
  struct stat st;
  ASSERT_EQ(stat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  CgiResponse r = fcgitest::fcgi_get(
      echo.address(), nginx_params("GET", "/auth/echo", "a=1&b=%20", {{"HTTP_COOKIE", "x=1; echo=abc"}}));
  expect_echo(r, "/auth/echo", "a=1&b=%20", "abc");
  EXPECT_TRUE(contains(r.body, "method=GET\n"));
  EXPECT_EQ(echo.process().stop(SIGTERM), 0);
  EXPECT_NE(stat(sock.c_str(), &st), 0) << "the socket file is removed at exit";
  EXPECT_TRUE(contains(config.log(), "event=request")) << config.log();
}

TEST(EchoProgram, MakesItsUnixSocketWithTheModeAsked) {
  EchoConfig config;
  std::string sock = config.dir().file("echo.sock");
  testutil::Process p({echo_path(), "--config", config.path(), "--listen", "unix:" + sock, "--socket-mode",
                       "0600", "--socket-group", std::to_string(getegid())},
                      {}, config.log_file());
  ASSERT_TRUE(testutil::wait_until([&] { return can_connect("unix:" + sock); })) << config.log();
  struct stat st;
  ASSERT_EQ(stat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_gid, getegid());
  expect_echo(fcgitest::fcgi_get("unix:" + sock, nginx_params("GET", "/x")), "/x", "");
  EXPECT_EQ(p.stop(SIGTERM), 0);
}

TEST(EchoProgram, ReplacesAStaleSocketFileButNotALiveOne) {
  EchoConfig config;
  std::string sock = config.dir().file("echo.sock");
  int stale = listening_unix_socket(sock);
  ASSERT_GE(stale, 0);
  // A live server on the path: refused.
  auto [code, out] = testutil::run({echo_path(), "--config", config.path(), "--listen", "unix:" + sock});
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(contains(out, "in use")) << out;
  close(stale); // now only a stale file remains
  ListeningEcho echo(config, "unix:" + sock);
  ASSERT_TRUE(echo.ready()) << config.log();
  expect_echo(fcgitest::fcgi_get(echo.address(), nginx_params("GET", "/x")), "/x", "");
}

TEST(EchoProgram, ServesOnTcp) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()));
  ASSERT_TRUE(echo.ready()) << config.log();
  std::string body = "name=value";
  CgiResponse r = fcgitest::fcgi_get(
      echo.address(),
      nginx_params("POST", "/auth/logout", "", {{"CONTENT_LENGTH", std::to_string(body.size())}}), body);
  expect_echo(r, "/auth/logout", "");
  EXPECT_TRUE(contains(r.body, "method=POST\n"));
  EXPECT_TRUE(contains(r.body, "body=name=value\n"));
}

TEST(EchoProgram, ServesOnAnInheritedSocketAsFd0) {
  EchoConfig config;
  std::string sock = config.dir().file("inherited.sock");
  int fd = listening_unix_socket(sock);
  ASSERT_GE(fd, 0);
  SocketChild child({echo_path(), "--config", config.path()}, fd, 0, config.log_file());
  close(fd);
  // The connection waits in the backlog until the program accepts it.
  CgiResponse r = fcgitest::fcgi_get(
      "unix:" + sock, nginx_params("GET", "/auth/check", "", {{"REQUEST_URI", "/private?x=1"}}));
  expect_echo(r, "/auth/check", "");
  EXPECT_TRUE(contains(r.body, "pid=" + std::to_string(child.pid()) + "\n"));
  EXPECT_EQ(child.stop(SIGTERM, 10s), 0) << config.log();
  EXPECT_TRUE(contains(config.log(), "mode=inherited")) << config.log();
}

TEST(EchoProgram, ServesOnSystemdListenFds) {
  EchoConfig config;
  std::string sock = config.dir().file("systemd.sock");
  int fd = listening_unix_socket(sock);
  ASSERT_GE(fd, 0);
  SocketChild child({echo_path(), "--config", config.path()}, fd, 3, config.log_file());
  close(fd);
  CgiResponse r = fcgitest::fcgi_get("unix:" + sock, nginx_params("GET", "/auth/profile"));
  expect_echo(r, "/auth/profile", "");
  EXPECT_EQ(child.stop(SIGTERM, 10s), 0) << config.log();
  EXPECT_TRUE(contains(config.log(), "mode=systemd")) << config.log();
}

TEST(EchoProgram, ServesPlainCgi) {
  EchoConfig config;
  CgiRun r = run_cgi({echo_path(), "--config", config.path()},
                     {{"GATEWAY_INTERFACE", "CGI/1.1"},
                      {"REQUEST_METHOD", "POST"},
                      {"SCRIPT_NAME", "/cgi-bin/echo"},
                      {"PATH_INFO", "/github"},
                      {"QUERY_STRING", "return_to=%2Fhome"},
                      {"HTTP_COOKIE", "echo=c1"},
                      {"CONTENT_LENGTH", "5"}},
                     "hello and more", config.dir().file("err"));
  EXPECT_EQ(r.status, 0) << r.err;
  CgiResponse resp = parse_cgi_response(r.out);
  expect_echo(resp, "/cgi-bin/echo/github", "return_to=%2Fhome", "c1");
  EXPECT_TRUE(contains(resp.body, "body=hello\n")) << resp.body; // CONTENT_LENGTH bytes only
  EXPECT_TRUE(contains(r.err, "event=request")) << r.err;
}

TEST(EchoProgram, CgiQueryWordsAreNotOptions) {
  // Apache passes a query without '=' as command-line words: they must not become options.
  EchoConfig config;
  int port = testutil::free_port();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  CgiRun r = run_cgi(
      {echo_path(), "--config", config.path(), "--listen", listen},
      {{"GATEWAY_INTERFACE", "CGI/1.1"}, {"SCRIPT_NAME", "/x"}, {"QUERY_STRING", "--listen+" + listen}}, "",
      config.dir().file("err"));
  EXPECT_EQ(r.status, 0) << r.err;
  expect_echo(parse_cgi_response(r.out), "/x", "--listen+" + listen);
  r = run_cgi({echo_path(), "--config", config.path(), "--help"},
              {{"GATEWAY_INTERFACE", "CGI/1.1"}, {"SCRIPT_NAME", "/x"}, {"QUERY_STRING", "--help"}}, "",
              config.dir().file("err"));
  expect_echo(parse_cgi_response(r.out), "/x", "--help");
}

TEST(EchoProgram, PlainCgiEnforcesLimits) {
  EchoConfig config;
  CgiRun r = run_cgi({echo_path(), "--config", config.path()},
                     {{"GATEWAY_INTERFACE", "CGI/1.1"}, {"SCRIPT_NAME", "/x"}, {"CONTENT_LENGTH", "1000"}},
                     std::string(1000, 'b'), config.dir().file("err"));
  EXPECT_EQ(r.status, 0);
  CgiResponse resp = parse_cgi_response(r.out);
  EXPECT_EQ(resp.status, 413);
  EXPECT_FALSE(contains(resp.body, "method="));
}

// --- the echo program: the loop ------------------------------------------------

TEST(EchoProgram, KeptConnectionServesSeveralRequests) {
  EchoConfig config;
  ListeningEcho echo(config, "unix:" + config.dir().file("k.sock"), 2);
  ASSERT_TRUE(echo.ready()) << config.log();
  FcgiClient client(echo.address());
  for (int i = 0; i < 3; ++i) {
    auto res = client.request(nginx_params("GET", "/r" + std::to_string(i)), {}, true);
    ASSERT_TRUE(res.complete) << i;
    expect_echo(parse_cgi_response(res.out), "/r" + std::to_string(i), "");
  }
  // A body the handler never reads (refused: over max_body_bytes) must not break the next request.
  std::string big(500, 'x');
  auto refused = client.request(nginx_params("POST", "/big", "", {{"CONTENT_LENGTH", "500"}}), big, true);
  ASSERT_TRUE(refused.complete);
  EXPECT_EQ(parse_cgi_response(refused.out).status, 413);
  auto post = client.request(nginx_params("POST", "/small", "", {{"CONTENT_LENGTH", "3"}}), "abc", true);
  ASSERT_TRUE(post.complete);
  CgiResponse r = parse_cgi_response(post.out);
  expect_echo(r, "/small", "");
  EXPECT_TRUE(contains(r.body, "body=abc\n"));
  // Without keep_conn the program closes the connection after answering.
  auto last = client.request(nginx_params("GET", "/last"), {}, false);
  ASSERT_TRUE(last.complete);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(EchoProgram, ServesRequestsInParallel) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()), 4);
  ASSERT_TRUE(echo.ready()) << config.log();
  std::vector<FcgiClient> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back(echo.address());
  auto start = std::chrono::steady_clock::now();
  for (auto& c : clients)
    c.send(nginx_params("GET", "/slow", "sleep_ms=600"));
  for (auto& c : clients) {
    auto res = c.receive(10s);
    ASSERT_TRUE(res.complete);
    expect_echo(parse_cgi_response(res.out), "/slow", "sleep_ms=600");
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 1800ms) << "four 600 ms requests on four threads should overlap";
}

// The pool grows: with one thread at start, four requests that wait (as on a slow
// provider) are all in the handler at once. Without growth the second would start
// only when the first ended, 8 s later.
TEST(EchoProgram, ThePoolGrowsSoWaitingRequestsDoNotQueue) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()), 1);
  ASSERT_TRUE(echo.ready()) << config.log();
  std::vector<FcgiClient> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back(echo.address());
  for (auto& c : clients)
    c.send(nginx_params("GET", "/slow", "sleep_ms=8000"));
  EXPECT_TRUE(testutil::wait_until([&] { return count(config.log(), "event=echo_started") == 4; }, 6s))
      << config.log();
  for (auto& c : clients) {
    auto res = c.receive(30s);
    ASSERT_TRUE(res.complete);
    expect_echo(parse_cgi_response(res.out), "/slow", "sleep_ms=8000");
  }
}

// The threads of a running process.
int thread_count(pid_t pid) {
  int n = 0;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) n = std::stoi(line.substr(8));
  return n;
}

// After the burst that grew it, the pool shrinks back: an idle program holds few threads.
TEST(EchoProgram, ThePoolShrinksWhenTheLoadHasPassed) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()), 2);
  ASSERT_TRUE(echo.ready()) << config.log();
  pid_t pid = echo.process().pid();
  int idle = thread_count(pid);
  std::vector<FcgiClient> clients;
  for (int i = 0; i < 12; ++i)
    clients.emplace_back(echo.address());
  for (auto& c : clients)
    c.send(nginx_params("GET", "/slow", "sleep_ms=1500"));
  ASSERT_TRUE(testutil::wait_until([&] { return count(config.log(), "event=echo_started") == 12; }, 10s))
      << config.log();
  EXPECT_GE(thread_count(pid), idle + 10);
  for (auto& c : clients)
    ASSERT_TRUE(c.receive(10s).complete);
  // Two workers to start with: the ones that end their request with two others already
  // waiting go, so at most the two waiting and one more remain.
  EXPECT_TRUE(testutil::wait_until([&] { return thread_count(pid) <= idle + 1; }, 10s))
      << thread_count(pid) << " threads, " << idle << " at start";
  auto res = FcgiClient(echo.address()).request(nginx_params("GET", "/after"), {}, false, 10s);
  ASSERT_TRUE(res.complete) << config.log();
  expect_echo(parse_cgi_response(res.out), "/after", "");
}

// nginx closes kept connections it no longer needs (keepalive_timeout): the workers on
// them go back to waiting for connections, counted, and the pool shrinks back at once,
// not after the 10 s a kept connection may stay idle.
TEST(EchoProgram, KeptConnectionsClosedByTheWebServerShrinkThePool) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()), 2);
  ASSERT_TRUE(echo.ready()) << config.log();
  pid_t pid = echo.process().pid();
  int idle = thread_count(pid);
  {
    std::vector<FcgiClient> clients;
    for (int i = 0; i < 8; ++i)
      clients.emplace_back(echo.address());
    for (auto& c : clients)
      c.send(nginx_params("GET", "/slow", "sleep_ms=1000"), {}, true);
    for (auto& c : clients)
      ASSERT_TRUE(c.receive(10s).complete) << config.log();
    EXPECT_GE(thread_count(pid), idle + 6);
  } // the eight kept connections close
  EXPECT_TRUE(testutil::wait_until([&] { return thread_count(pid) <= idle + 1; }, 5s))
      << thread_count(pid) << " threads, " << idle << " at start";
}

// Workers busy computing do not grow the pool: on a saturated CPU more threads would
// only queue for it. The requests wait for a worker instead, and are all answered.
TEST(EchoProgram, BusyWorkersDoNotGrowThePool) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()), 2);
  ASSERT_TRUE(echo.ready()) << config.log();
  pid_t pid = echo.process().pid();
  int idle = thread_count(pid);
  std::vector<FcgiClient> clients;
  for (int i = 0; i < 6; ++i)
    clients.emplace_back(echo.address());
  for (auto& c : clients)
    c.send(nginx_params("GET", "/spin", "spin_ms=300"));
  int most = idle;
  for (auto& c : clients) {
    auto res = c.receive(20s);
    most = std::max(most, thread_count(pid));
    ASSERT_TRUE(res.complete) << config.log();
  }
  EXPECT_EQ(most, idle) << "the pool grew for workers that were computing";
}

// nginx's fastcgi_keep_conn: a kept connection holds its thread while idle; a new
// connection still finds one.
TEST(EchoProgram, AKeptConnectionDoesNotStarveANewOne) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()), 1);
  ASSERT_TRUE(echo.ready()) << config.log();
  FcgiClient kept(echo.address());
  ASSERT_TRUE(kept.request(nginx_params("GET", "/kept"), {}, true).complete);
  FcgiClient fresh(echo.address());
  auto res = fresh.request(nginx_params("GET", "/fresh"), {}, false, 10s);
  ASSERT_TRUE(res.complete) << config.log();
  expect_echo(parse_cgi_response(res.out), "/fresh", "");
  // The kept connection still serves its next request.
  auto again = kept.request(nginx_params("GET", "/again"), {}, true);
  ASSERT_TRUE(again.complete);
  expect_echo(parse_cgi_response(again.out), "/again", "");
}

// --max-threads 1 (mod_fcgid's one request per process): no thread is added, so a new
// connection waits for the request in flight to end.
TEST(EchoProgram, MaxThreadsCapsThePool) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()), 1, {"--max-threads", "1"});
  ASSERT_TRUE(echo.ready()) << config.log();
  FcgiClient busy(echo.address());
  busy.send(nginx_params("GET", "/busy", "sleep_ms=3000"));
  ASSERT_TRUE(testutil::wait_until([&] { return count(config.log(), "event=echo_started") == 1; }, 5s))
      << config.log();
  FcgiClient waiting(echo.address());
  waiting.send(nginx_params("GET", "/waiting"));
  EXPECT_FALSE(waiting.receive(1500ms).complete) << "a second thread answered";
  ASSERT_TRUE(busy.receive(10s).complete) << config.log();
  auto res = waiting.receive(10s);
  ASSERT_TRUE(res.complete) << config.log();
  expect_echo(parse_cgi_response(res.out), "/waiting", "");
}

// nginx keeps idle connections per worker process (upstream keepalive N): however many,
// they must not hold every thread. At the ceiling, a thread idle on a kept connection
// closes it and takes the new one; nginx drops a closed connection from its cache.
TEST(EchoProgram, AtTheCeilingIdleKeptConnectionsLetGo) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()), 1, {"--max-threads", "2"});
  ASSERT_TRUE(echo.ready()) << config.log();
  std::vector<std::unique_ptr<FcgiClient>> kept;
  for (int i = 0; i < 5; ++i) {
    kept.push_back(std::make_unique<FcgiClient>(echo.address()));
    auto res = kept.back()->request(nginx_params("GET", "/kept" + std::to_string(i)), {}, true, 10s);
    ASSERT_TRUE(res.complete) << "kept connection " << i << " was not served\n" << config.log();
    expect_echo(parse_cgi_response(res.out), "/kept" + std::to_string(i), "");
  }
  FcgiClient fresh(echo.address());
  auto res = fresh.request(nginx_params("GET", "/fresh"), {}, false, 10s);
  ASSERT_TRUE(res.complete) << config.log();
  expect_echo(parse_cgi_response(res.out), "/fresh", "");
  // Two threads hold at most two connections: at least three of the five were let go.
  int closed = 0;
  for (auto& k : kept)
    closed += k->closed_by_peer(1500ms) ? 1 : 0;
  EXPECT_GE(closed, 3) << config.log();
}

TEST(EchoProgram, LimitsAreEnforcedBeforeTheHandler) {
  EchoConfig config;
  ListeningEcho echo(config, "unix:" + config.dir().file("l.sock"));
  ASSERT_TRUE(echo.ready()) << config.log();
  auto status = [&](const fcgitest::Params& p, const std::string& body = {}) {
    CgiResponse r = fcgitest::fcgi_get(echo.address(), p, body);
    EXPECT_TRUE(r.ok);
    EXPECT_FALSE(contains(r.body, "method=")) << "the handler ran";
    return r.status;
  };
  EXPECT_EQ(status(nginx_params("GET", "/q", std::string(101, 'q'))), 414);
  EXPECT_EQ(status(nginx_params("GET", "/c", "", {{"HTTP_COOKIE", "echo=" + std::string(100, 'c')}})), 431);
  std::map<std::string, std::string> many;
  for (int i = 0; i < 20; ++i)
    many["HTTP_X_H" + std::to_string(i)] = std::string(60, 'h');
  EXPECT_EQ(status(nginx_params("GET", "/h", "", many)), 431);
  EXPECT_EQ(status(nginx_params("POST", "/b", "", {{"CONTENT_LENGTH", "101"}}), std::string(101, 'b')), 413);
  EXPECT_EQ(status(nginx_params("POST", "/b", "", {{"CONTENT_LENGTH", "12x"}})), 400);
  // And just under every limit, the handler runs.
  CgiResponse ok = fcgitest::fcgi_get(
      echo.address(),
      nginx_params("POST", "/ok", std::string(100, 'q'),
                   {{"HTTP_COOKIE", "echo=" + std::string(90, 'c')}, {"CONTENT_LENGTH", "100"}}),
      std::string(100, 'b'));
  EXPECT_EQ(ok.status, 200);
  EXPECT_TRUE(contains(ok.body, "body=" + std::string(100, 'b')));
}

TEST(EchoProgram, HandlerExceptionIs500AndTheServerLivesOn) {
  EchoConfig config;
  ListeningEcho echo(config, "unix:" + config.dir().file("e.sock"), 1);
  ASSERT_TRUE(echo.ready()) << config.log();
  CgiResponse r = fcgitest::fcgi_get(echo.address(), nginx_params("GET", "/t", "throw=1"));
  EXPECT_EQ(r.status, 500);
  EXPECT_FALSE(contains(r.body, "asked to throw"));
  expect_echo(fcgitest::fcgi_get(echo.address(), nginx_params("GET", "/after")), "/after", "");
  EXPECT_TRUE(contains(config.log(), "asked to throw"));
}

TEST(EchoProgram, SigtermLetsASlowRequestFinishThenExitsZero) {
  EchoConfig config;
  std::string sock = config.dir().file("t.sock");
  ListeningEcho echo(config, "unix:" + sock, 2);
  ASSERT_TRUE(echo.ready()) << config.log();
  // An idle kept-alive connection holds a worker; it must not delay the exit.
  FcgiClient idle(echo.address());
  ASSERT_TRUE(idle.request(nginx_params("GET", "/idle"), {}, true).complete);

  FcgiClient slow(echo.address());
  slow.send(nginx_params("GET", "/slow", "sleep_ms=1000"));
  // The second "echo_started": the slow request is in the handler.
  ASSERT_TRUE(testutil::wait_until([&] { return count(config.log(), "event=echo_started") == 2; }, 10s))
      << config.log();
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(echo.process().pid(), SIGTERM), 0);
  auto res = slow.receive(10s);
  ASSERT_TRUE(res.complete) << config.log();
  expect_echo(parse_cgi_response(res.out), "/slow", "sleep_ms=1000");
  EXPECT_EQ(echo.process().wait(5s), 0) << config.log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(can_connect("unix:" + sock));
  EXPECT_TRUE(contains(config.log(), "event=stopped")) << config.log();
}

TEST(EchoProgram, SigtermWhenIdleExitsPromptly) {
  EchoConfig config;
  ListeningEcho echo(config, "127.0.0.1:" + std::to_string(testutil::free_port()), 8);
  ASSERT_TRUE(echo.ready()) << config.log();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(echo.process().stop(SIGTERM, 5s), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}
