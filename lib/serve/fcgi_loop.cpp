// Run modes 1-3, the FastCGI loop: worker threads each with their own Store and
// HttpClient accepting on one listening socket, request bodies read and drained,
// and the shutdown on SIGTERM/SIGINT once requests in flight are answered.
//
// The pool starts with [server] threads workers and grows, up to max_threads, whenever
// none is left waiting for a new connection while workers wait on something else: a
// provider's answer (through the worker's HTTP client), a lock (through its clock), or
// the next request of a kept-alive connection. Workers busy computing do not grow it:
// on a saturated CPU more threads only queue for it. At the ceiling, a worker idle on a
// kept connection lets it go so that a new connection is taken: however many
// connections nginx keeps, they cannot hold every worker. As load falls, a worker
// that finds enough others already waiting for connections ([server] threads and a
// sixteenth of the pool) ends, so the pool shrinks back and an idle program holds few
// threads.
#include <fastcgi.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "run_modes.hpp"

namespace oauthfcgi {
namespace {

// Unread request body drained after the answer so a kept connection stays in step;
// past this much we close the connection instead.
constexpr size_t kMaxDrainBytes = size_t{4} << 20;

// A kept connection idle this long is let go while the pool is above its starting
// size, so that its worker can retire: nginx keeps idle upstream connections for 60 s.
constexpr int kKeptIdleMs = 10'000;

struct Server {
  Server(const Serving& s, int fd, const Workers& w)
      : serving(s), config(s.config), log(s.log), listen_fd(fd), min_workers(w.start), max_workers(w.max),
        release_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)) {}
  ~Server() {
    if (release_fd >= 0) ::close(release_fd);
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  const Serving& serving;
  const Config& config;
  const Log& log;
  int listen_fd;
  const int min_workers; // also how many waiting workers are enough
  const int max_workers;
  std::atomic<bool> stopping{false};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::condition_variable idle;
  int busy = 0;      // requests in flight, under mu
  int alive = 0;     // workers started and not ended, under mu
  int accepting = 0; // workers waiting for a new connection, under mu
  int kept_idle = 0; // workers waiting for the next request of a kept connection, under mu
  int waiting = 0;   // workers waiting on a provider or a lock, under mu
  // Each count written asks one worker in kept_idle to close its connection and take
  // a new one (a semaphore: one read, one release). -1 when eventfd failed: kept
  // connections are then let go only after kKeptIdleMs idle.
  const int release_fd;
};

void worker(Server& s);

// A new worker, detached: the process ends with _Exit, never by joining. Called under mu.
bool add_worker_locked(Server& s) {
  try {
    std::thread(worker, std::ref(s)).detach();
  } catch (const std::system_error& e) {
    s.log.error("thread_failed", {{"error", e.what()}});
    return false;
  }
  ++s.alive;
  return true;
}

// No worker is left waiting for a connection: one more while workers wait (on a
// provider, a lock or a kept connection) and the pool has room; at the ceiling, one
// idle kept connection is asked to let its worker go. Called under mu.
void grow_if_none_accepting(Server& s) {
  if (s.stopping.load() || s.accepting > 0) return;
  if (s.alive < s.max_workers) {
    // Beyond [server] threads, a worker only for each one that waits.
    if (s.alive >= s.min_workers + s.waiting + s.kept_idle) return;
    if (add_worker_locked(s)) s.log.debug("worker_added", {{"workers", std::to_string(s.alive)}});
    return;
  }
  if (s.kept_idle > 0 && s.release_fd >= 0) {
    uint64_t one = 1;
    (void)!::write(s.release_fd, &one, sizeof one);
  }
}

// The last request in flight is answered: a stop waiting for it may go on. Called under mu.
void notify_idle(Server& s) {
  s.idle.notify_all();
}

// Holds one of the server's counts (accepting, busy, waiting, kept_idle) one higher
// for its lifetime. Under mu, `after_raise` runs once it is raised and `when_zero`
// when it drops back to 0.
class Counted {
public:
  using Hook = void (*)(Server&);
  Counted(Server& s, int Server::*count, Hook after_raise, Hook when_zero)
      : s_(s), count_(count), when_zero_(when_zero) {
    std::lock_guard<std::mutex> lock(s_.mu);
    ++(s_.*count_);
    if (after_raise) after_raise(s_);
  }
  ~Counted() {
    std::lock_guard<std::mutex> lock(s_.mu);
    if (--(s_.*count_) == 0 && when_zero_) when_zero_(s_);
  }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;

private:
  Server& s_;
  int Server::*count_;
  Hook when_zero_;
};

// Counts its worker as waiting (on a provider or a lock) for as long as it lives, and
// grows the pool should no worker be left for new connections.
Counted waiting_on(Server& s) {
  return Counted(s, &Server::waiting, grow_if_none_accepting, nullptr);
}

// The worker's HTTP client and clock, counting the time spent waiting on a provider or
// between two looks at a lock.
class WaitingHttp : public HttpClient {
public:
  WaitingHttp(Server& s, HttpClient& inner) : s_(s), inner_(inner) {}
  Result<HttpResponse> send(const HttpRequest& request) override {
    Counted waiting = waiting_on(s_);
    return inner_.send(request);
  }

private:
  Server& s_;
  HttpClient& inner_;
};

class WaitingClock : public Clock {
public:
  WaitingClock(Server& s, const Clock& inner) : s_(s), inner_(inner) {}
  long long now_ms() const override { return inner_.now_ms(); }
  SteadyTime steady() const override { return inner_.steady(); }
  void sleep_for(std::chrono::milliseconds d) const override {
    Counted waiting = waiting_on(s_);
    inner_.sleep_for(d);
  }

private:
  Server& s_;
  const Clock& inner_;
};

std::string read_stream(FCGX_Stream* in, size_t n) {
  std::string body(n, '\0');
  size_t got = 0;
  while (got < n) {
    int want = static_cast<int>(std::min<size_t>(n - got, INT_MAX));
    int r = FCGX_GetStr(&body[got], want, in);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  body.resize(got);
  return body;
}

// Reads what is left of STDIN, so the next request on a kept connection starts at
// a record boundary. False when there was too much to drain.
bool drain_stream(FCGX_Stream* in) {
  char buf[8192];
  size_t total = 0;
  while (total <= kMaxDrainBytes) {
    int r = FCGX_GetStr(buf, sizeof buf, in);
    if (r <= 0) return FCGX_GetError(in) == 0;
    total += static_cast<size_t>(r);
  }
  return false;
}

// Serves one request. True when all of its input was read, so that closing the
// connection can't reset it under an answer the web server has yet to read.
bool serve_one(Server& s, FCGX_Request& req, Context& ctx) {
  Request::Env env = Request::Env::from_envp(req.envp);
  std::string body;
  // The body is read only once its size is known to be acceptable.
  bool body_read = check_limits(env, s.config.limits).ok();
  if (body_read) body = read_stream(req.in, *content_length(env));
  Response response = handle_request(s.serving.program, Request(std::move(env), std::move(body)), ctx);
  std::string out = response.serialize();
  // The answer normally leaves at FCGX_FClose, with the end of the stream and
  // END_REQUEST, in one write: nginx then has it whole (an auth_request closes the
  // connection after the headers, and a second write met EPIPE). Only when an unread
  // body is to be drained first does the answer go now.
  bool sent = FCGX_PutStr(out.data(), static_cast<int>(out.size()), req.out) >= 0;
  if (sent && !body_read) sent = FCGX_FFlush(req.out) >= 0;
  if (!sent) s.log.debug("client_gone");
  // A FastCGI authorizer (Apache mod_authnz_fcgi) is sent no STDIN stream at all:
  // draining it would hold back END_REQUEST until the web server gives up.
  if (req.role == FCGI_AUTHORIZER) {
    req.keepConnection = 0;
    return true;
  }
  if (drain_stream(req.in)) return true;
  req.keepConnection = 0;
  return false;
}

// Waits on a kept connection until its next request arrives: true; or until the web
// server closes it, the pool at its ceiling needs this worker for new connections, or
// the connection has been idle kKeptIdleMs with the pool above its starting size: false.
bool await_kept(Server& s, int fd) {
  // Counted and checked under one lock: should no worker be left for new connections,
  // this one grows the pool or, at the ceiling, asks an idle kept connection (perhaps
  // its own) to let go; a worker taking the last free connection later sees it idle.
  Counted idle(s, &Server::kept_idle, grow_if_none_accepting, nullptr);
  pollfd fds[2] = {{fd, POLLIN | POLLRDHUP, 0}, {s.release_fd, POLLIN, 0}};
  nfds_t n = s.release_fd >= 0 ? 2 : 1;
  while (!s.stopping.load()) {
    int ready = ::poll(fds, n, kKeptIdleMs);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return true; // let libfcgi's read report it
    }
    if (ready == 0) {
      std::lock_guard<std::mutex> lock(s.mu);
      if (s.alive > s.min_workers) return false;
      continue;
    }
    // Closed by the web server: let go here, so the worker goes on to a counted accept
    // (libfcgi would read the end, then accept a new connection uncounted: such a
    // worker neither grows nor shrinks the pool).
    if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) return false;
    if (fds[0].revents != 0) return true;
    uint64_t token;
    // Every idle worker wakes; the one whose read takes the count lets go.
    if (::read(s.release_fd, &token, sizeof token) == sizeof token) return false;
  }
  return true;
}

// Closes a kept connection at once (no lingering: it has no unread input).
void let_go(FCGX_Request& req) {
  FCGX_Detach(&req);
  FCGX_Free(&req, 1);
}

// Waits for the next request. False when the worker should end.
bool accept_next(Server& s, FCGX_Request& req) {
  while (!s.stopping.load()) {
    // Without a kept connection the worker waits for a new one, and counts as such.
    // (A kept connection the web server closes between await_kept's poll and this
    // read makes libfcgi accept a new one, uncounted: the pool may then grow by one
    // more than needed, never by one too few.)
    std::optional<Counted> accepting;
    if (req.ipcFd < 0) accepting.emplace(s, &Server::accepting, nullptr, grow_if_none_accepting);
    int rc = FCGX_Accept_r(&req);
    accepting.reset();
    if (rc >= 0) return true;
    if (s.stopping.load()) return false;
    int e = -rc;
    if (e == EBADF || e == ENOTSOCK || e == EINVAL) {
      s.log.error("accept_failed", {{"error", std::strerror(e)}});
      return false;
    }
    // EMFILE and friends: pass, don't spin.
    s.log.warn("accept_failed", {{"error", e > 0 ? std::strerror(e) : "protocol error"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// One accepted request, answered and finished.
void serve_accepted(Server& s, FCGX_Request& req, Context& ctx) {
  bool input_read = false;
  {
    Counted busy(s, &Server::busy, nullptr, notify_idle);
    try {
      input_read = serve_one(s, req, ctx);
    } catch (const std::exception& e) {
      s.log.error("request_failed", {{"error", e.what()}});
    } catch (...) {
      s.log.error("request_failed");
    }
    // Closing both output streams sends END_REQUEST: the answer is complete. What
    // Finish_r adds (libfcgi lingers up to 2 s on closing a connection) need not
    // hold up a shutdown, so it runs outside the busy count.
    FCGX_FClose(req.err);
    FCGX_FClose(req.out);
  }
  // Stopping: have the web server open its next connection to a live process.
  if (s.stopping.load()) req.keepConnection = 0;
  // libfcgi closes a connection by shutting down its side and waiting (up to 2 s)
  // for the web server to close: a second wake-up and three system calls per
  // request. That wait only matters when unread input could turn the close into
  // a reset; with all input read, a detached request is closed at once.
  if (input_read && !req.keepConnection) FCGX_Detach(&req);
  FCGX_Finish_r(&req);
}

// True, and the worker counted out, when the pool is above its starting size and
// enough others already wait for connections: the load that grew it has passed.
// "Enough" grows with the pool (a sixteenth of it more than [server] threads): under a
// steady load the number waiting for connections swings between none and a few, and
// a worker retired at every swing was one started again at the next (measured under
// oauth-api with 400 callers: a thread, a Redis connection and an upstream connection
// made anew per ~17 calls). `load_passed`: no request is in flight any more.
bool retire_if_surplus(Server& s, bool& load_passed) {
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.alive <= s.min_workers || s.accepting < s.min_workers + s.alive / 16 || s.stopping.load())
    return false;
  --s.alive;
  load_passed = s.busy == 0 && s.waiting == 0;
  s.log.debug("worker_retired", {{"workers", std::to_string(s.alive)}});
  return true;
}

enum class WorkerEnd { stopped, retired, retired_idle };

// Serves requests until the process stops or the worker retires.
WorkerEnd serve_requests(Server& s) {
  std::unique_ptr<Store> store;
  std::unique_ptr<HttpClient> http;
  try {
    store = make_store(s.serving.services, s.config);
    http = make_http(s.serving.services, s.config);
    if (!store || !http) s.log.error("worker_failed", {{"error", "no store or HTTP client"}});
  } catch (const std::exception& e) {
    s.log.error("worker_failed", {{"error", e.what()}});
  }
  FCGX_Request req;
  if (store && http && FCGX_InitRequest(&req, s.listen_fd, 0) == 0) {
    WaitingHttp waiting_http(s, *http);
    WaitingClock waiting_clock(s, system_clock());
    Context ctx{s.config, s.serving.keys, *store, waiting_http, s.log, waiting_clock, system_random()};
    while (true) {
      if (req.ipcFd >= 0 && !await_kept(s, req.ipcFd)) {
        let_go(req);
        s.log.debug("kept_connection_released");
      }
      bool load_passed = false;
      if (req.ipcFd < 0 && retire_if_surplus(s, load_passed)) {
        FCGX_Free(&req, 1);
        return load_passed ? WorkerEnd::retired_idle : WorkerEnd::retired;
      }
      if (!accept_next(s, req)) break;
      serve_accepted(s, req, ctx);
    }
    FCGX_Free(&req, 1);
  }
  return WorkerEnd::stopped;
}

void worker(Server& s) {
  WorkerEnd end = serve_requests(s);
  // Nothing is in flight any more and this worker's Redis connection and HTTP client
  // are gone: hand the kernel the heap the burst's threads held (glibc keeps freed
  // memory in its arenas; after 400 logins in flight that was 20-30 MB).
  if (end == WorkerEnd::retired_idle) malloc_trim(0);
  if (end != WorkerEnd::stopped) return;
  bool last;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    last = --s.alive == 0;
  }
  if (last && !s.stopping.load()) {
    // Nobody left to serve: wake main (it waits for signals) to exit with an error.
    s.failed = true;
    ::kill(::getpid(), SIGTERM);
  }
}

// The first workers; how many started.
int start_workers(Server& s, int threads) {
  std::lock_guard<std::mutex> lock(s.mu);
  for (int i = 0; i < threads; ++i)
    if (!add_worker_locked(s)) break;
  return s.alive;
}

// The signal that ends the run; SIGHUP is logged and ignored.
int wait_for_stop(Server& s, const sigset_t& signals) {
  int sig = 0;
  while (true) {
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) return sig;
    s.log.info("sighup_ignored", {{"hint", "restart the process to reload the config"}});
  }
}

} // namespace

int serve_fastcgi(const Serving& serving, int listen_fd, const Workers& workers, RunMode mode,
                  const OwnedSocketFile& owned) {
  Server s(serving, listen_fd, workers);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  // Blocked before the threads exist, so they inherit the mask and only sigwait sees them.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  FCGX_Init();

  int started = start_workers(s, workers.start);
  if (started == 0) {
    owned.remove();
    return 1;
  }
  s.log.info("started", {{"mode", run_mode_name(mode)},
                         {"threads", std::to_string(started)},
                         {"max_threads", std::to_string(workers.max)},
                         {"version", kVersion}});
  int sig = wait_for_stop(s, signals);
  s.stopping = true;
  FCGX_ShutdownPending();
  if (!s.failed.load()) s.log.info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  // Threads blocked in accept() only wake when the socket is shut down; closing it is
  // not enough. An inherited socket is shared (systemd, spawn-fcgi -F siblings), so we
  // leave it alone: its idle workers simply die with the process.
  if (mode == RunMode::own_socket) ::shutdown(s.listen_fd, SHUT_RDWR);

  // In-flight requests finish; a request cannot outlast the provider timeout by much.
  auto grace = std::chrono::milliseconds(s.config.http.timeout_ms) + std::chrono::seconds(5);
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.idle.wait_for(lock, grace, [&] { return s.busy == 0; }))
      s.log.warn("stop_timeout", {{"in_flight", std::to_string(s.busy)}});
  }
  owned.remove();
  s.log.info("stopped");
  // Workers blocked reading the next request of a kept-alive connection never wake
  // up, so they are not joined (they are detached): the process ends here.
  (void)std::fflush(stdout);
  (void)std::fflush(stderr);
  std::_Exit(s.failed.load() ? 1 : 0);
}

} // namespace oauthfcgi
