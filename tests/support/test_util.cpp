#include "test_util.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace testutil {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("free_port: bind failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

TempDir::TempDir(const std::string& parent) {
  const char* env = getenv("TMPDIR");
  std::string base = !parent.empty() ? parent : env && *env ? env : "/tmp";
  std::string tmpl = base + "/oauthfcgi-test-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp under " + base + ": " + strerror(errno));
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + p);
  chmod(p.c_str(), 0600);
  return p;
}

Process::Process(std::vector<std::string> argv, std::map<std::string, std::string> env,
                 std::string log_file) {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    setpgid(0, 0); // own group, so stop() reaches children the process spawns
    for (auto& [k, v] : env)
      setenv(k.c_str(), v.c_str(), 1);
    if (!log_file.empty()) {
      int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (pid_ > 0 && !exited_) {
    if (stop(SIGTERM, std::chrono::seconds(5)) == -1000) stop(SIGKILL, std::chrono::seconds(5));
  }
}

Process::Process(Process&& o) noexcept : pid_(o.pid_), status_(o.status_), exited_(o.exited_) {
  o.pid_ = -1;
}

Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0 && !exited_) stop(SIGKILL);
    pid_ = o.pid_;
    status_ = o.status_;
    exited_ = o.exited_;
    o.pid_ = -1;
  }
  return *this;
}

bool Process::running() {
  if (pid_ <= 0 || exited_) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = st;
    return false;
  }
  return true;
}

static int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return -WTERMSIG(st);
  return -1;
}

int Process::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (!wait_until([&] { return !running(); }, timeout)) return -1000;
  return decode_status(status_);
}

int Process::stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (!running()) return decode_status(status_);
  kill(-pid_, sig); // the group
  kill(pid_, sig);
  return wait(timeout);
}

std::pair<int, std::string> run(const std::vector<std::string>& argv, const std::string& stdin_data,
                                std::chrono::milliseconds timeout) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (auto& a : copy)
      args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  while (written < stdin_data.size()) {
    ssize_t n = ::write(in[1], stdin_data.data() + written, stdin_data.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  close(in[1]);
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    output.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  return {decode_status(st), output};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RedisServer::RedisServer() : port_(free_port()) {
  start();
}

RedisServer::~RedisServer() {
  stop();
}

void RedisServer::start() {
  proc_ = Process({"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", dir_.path(), "--daemonize", "no", "--loglevel", "warning"},
                  {}, dir_.file("redis.log"));
  bool up = wait_until([&] { return port_open(port_) && cli({"PING"}) == "PONG"; }, std::chrono::seconds(10));
  if (!up) throw std::runtime_error("redis-server did not start: " + read_file(dir_.file("redis.log")));
}

void RedisServer::stop() {
  proc_.stop(SIGTERM, std::chrono::seconds(10));
}

bool RedisServer::running() {
  return proc_.running();
}

std::string RedisServer::url(int db) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

std::string RedisServer::cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  auto [code, out] = run(argv, {}, std::chrono::seconds(5));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return code == 0 ? out : "";
}

std::string RedisServer::dump_all() {
  std::string out, keys = cli({"--scan"});
  size_t at = 0;
  while (at < keys.size()) {
    size_t end = keys.find('\n', at);
    if (end == std::string::npos) end = keys.size();
    std::string key = keys.substr(at, end - at);
    if (!key.empty()) out += key + " " + cli({"TTL", key}) + " " + cli({"GET", key}) + "\n";
    at = end + 1;
  }
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string source_dir() {
#ifdef OAUTHFCGI_SOURCE_DIR
  return OAUTHFCGI_SOURCE_DIR;
#else
  return ".";
#endif
}

std::string bin_dir() {
#ifdef OAUTHFCGI_BIN_DIR
  return OAUTHFCGI_BIN_DIR;
#else
  return "build/bin";
#endif
}

} // namespace testutil
