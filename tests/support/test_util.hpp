// Helpers for hermetic tests: free loopback ports, child processes that are always
// stopped, bounded polling instead of sleeps, temp dirs, a real redis-server.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace testutil {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int free_port();
// Polls pred every 10 ms until it holds or timeout passes; returns whether it held.
bool wait_until(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));
// True when something accepts TCP connections on 127.0.0.1:port.
bool port_open(int port);
// A fresh directory under `parent` (default $TMPDIR, else /tmp), removed (recursively)
// by the destructor.
class TempDir {
public:
  explicit TempDir(const std::string& parent = "");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes content to name (mode 0600) and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

private:
  std::string path_;
};

// A child process, killed (SIGTERM, then SIGKILL after 5 s) by the destructor.
class Process {
public:
  Process() = default;
  // argv[0] is looked up in PATH. env entries are added to (or override) the current environment.
  // stdout/stderr go to log_file when given, else are inherited.
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
          std::string log_file = {});
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends sig and waits up to timeout for exit; returns the exit status (or -signal), or -1000 on timeout.
  int stop(int sig = 15, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits for the process to exit by itself; same return as stop().
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));

private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

// Runs a command to completion and returns (exit status, stdout+stderr).
std::pair<int, std::string> run(const std::vector<std::string>& argv, const std::string& stdin_data = {},
                                std::chrono::milliseconds timeout = std::chrono::seconds(30));

std::string read_file(const std::string& path);

// A real redis-server on a free loopback port, no persistence, stopped by the destructor.
class RedisServer {
public:
  RedisServer();
  ~RedisServer();
  int port() const { return port_; }
  std::string url(int db = 0) const;
  void start(); // (re)starts on the same port; waits until it answers PING
  void stop();  // SIGTERM and wait
  bool running();
  // redis-cli against this server; returns its stdout trimmed.
  std::string cli(const std::vector<std::string>& args);
  // Every key, its TTL and its value ("key ttl value" lines), for tests that look for
  // secrets in clear or keys without a TTL.
  std::string dump_all();

private:
  TempDir dir_;
  int port_;
  Process proc_;
};

// The folder of the source tree (for scripts and data); set by CMake as OAUTHFCGI_SOURCE_DIR.
std::string source_dir();
// The folder holding built programs (build/bin); set by CMake as OAUTHFCGI_BIN_DIR.
std::string bin_dir();

// `s` as one word of a POSIX shell command, whatever it holds (spaces, quotes): a checkout
// may sit in a folder whose path has them.
std::string shell_quote(const std::string& s);

// What `draw` returns, called `each` times on each of `threads` threads running at
// once: for tests that values drawn concurrently never repeat.
inline std::vector<std::string> drawn_on_threads(int threads, int each,
                                                 const std::function<std::string()>& draw) {
  std::vector<std::vector<std::string>> drawn(static_cast<size_t>(threads));
  std::vector<std::thread> running;
  for (auto& mine : drawn)
    running.emplace_back([&mine, each, &draw] {
      for (int i = 0; i < each; ++i)
        mine.push_back(draw());
    });
  for (auto& t : running)
    t.join();
  std::vector<std::string> all;
  for (auto& mine : drawn)
    all.insert(all.end(), mine.begin(), mine.end());
  return all;
}

} // namespace testutil
