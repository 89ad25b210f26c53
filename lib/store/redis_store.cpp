// RedisStore over hiredis 0.14 (blocking API); the [redis] url parser is redis_url.cpp.
//
// One redisContext per store, connected on first use. Any I/O error drops the
// context, so the next command reconnects and re-sends AUTH and SELECT (hiredis
// 0.14 forgets both, and the command timeout, on reconnect). A command that hits a
// closed connection which an earlier call opened is retried once on a fresh one,
// so a Redis restart does not fail the first request of every worker thread.

#include "store.hpp"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "c_handle.hpp"
#include "url.hpp"

namespace oauthfcgi {

namespace {

using ContextPtr = CHandle<redisContext, redisFree>;
using ReplyPtr = CHandle<redisReply, freeReplyObject>;

// Set once by redis_sigpipe_ignored_for_good().
std::atomic<bool> sigpipe_ignored{false};

// hiredis writes with write(2), so a peer that reset the connection raises SIGPIPE,
// which kills the process unless someone ignores it. Rather than change the
// process-wide disposition, block SIGPIPE in this thread around the I/O and swallow
// one raised meanwhile (the signal is thread-directed, so only ours can be pending).
class SigpipeGuard {
public:
  SigpipeGuard() {
    if (sigpipe_ignored.load(std::memory_order_relaxed)) {
      was_blocked_ = true; // nothing to undo
      return;
    }
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old_);
    was_blocked_ = sigismember(&old_, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (was_blocked_) return;
    sigset_t pending;
    sigemptyset(&pending);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      timespec zero{0, 0};
      sigtimedwait(&pipe_only, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

private:
  sigset_t old_{};
  bool was_blocked_ = false;
};

} // namespace

void redis_sigpipe_ignored_for_good() {
  sigpipe_ignored = true;
}

namespace {

timeval to_timeval(int ms) {
  if (ms <= 0) ms = 1; // hiredis treats a zero timeout as "block forever"
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

const char* reply_type_name(int type) {
  switch (type) {
  case REDIS_REPLY_STRING: return "string";
  case REDIS_REPLY_ARRAY: return "array";
  case REDIS_REPLY_INTEGER: return "integer";
  case REDIS_REPLY_NIL: return "nil";
  case REDIS_REPLY_STATUS: return "status";
  case REDIS_REPLY_ERROR: return "error";
  default: return "unknown";
  }
}

// A command's outcome below the Store API: a reply, or why there is none.
struct Sent {
  ReplyPtr reply;
  bool retryable = false; // the connection was found closed; the command may not have run
  std::string reason;
};

} // namespace

struct RedisStore::Impl {
  RedisConfig cfg;
  std::string where; // "host:port" or the socket path, for reasons
  ContextPtr ctx;

  explicit Impl(const RedisConfig& c) : cfg(c) {
    if (cfg.unix_socket)
      where = cfg.host;
    else if (cfg.host.find(':') != std::string::npos)
      where = "[" + cfg.host + "]:" + std::to_string(cfg.port);
    else
      where = cfg.host + ":" + std::to_string(cfg.port);
  }

  Error unavailable(const std::string& what) const {
    return make_error(ErrorKind::store_unavailable, "redis at " + where + ": " + what);
  }
  Error internal(const std::string& what) const {
    return make_error(ErrorKind::internal, "redis at " + where + ": " + what);
  }
  // A reply of a type the command never returns.
  Error unexpected(std::string_view command, const redisReply& r) const {
    std::string cmd(command);
    if (r.type == REDIS_REPLY_ERROR) return unavailable(cmd + ": " + std::string(r.str, r.len));
    return internal(std::string("unexpected ") + reply_type_name(r.type) + " reply to " + cmd);
  }

  std::string prefixed(std::string_view key) const {
    std::string k;
    k.reserve(cfg.key_prefix.size() + key.size());
    k.append(cfg.key_prefix).append(key);
    return k;
  }

  // Sends one command on the current context. On an I/O error the context is dropped.
  Sent send(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> argvlen;
    argv.reserve(args.size());
    argvlen.reserve(args.size());
    for (auto a : args) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    Sent out;
    errno = 0;
    void* raw = redisCommandArgv(ctx.get(), static_cast<int>(argv.size()), argv.data(), argvlen.data());
    int saved_errno = errno;
    out.reply.reset(static_cast<redisReply*>(raw));
    if (out.reply) return out;
    // hiredis reports a read timeout (SO_RCVTIMEO) as an I/O error with EAGAIN.
    bool timed_out = ctx->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
    if (timed_out)
      out.reason = "no answer within " + std::to_string(cfg.timeout_ms) + " ms";
    else
      out.reason = ctx->errstr[0] ? ctx->errstr : "connection failed";
    // Only a connection found closed is retried: after a timeout the command may have
    // run (a retried GETDEL would lose the value) and a retry would double the wait.
    out.retryable = !timed_out && (ctx->err == REDIS_ERR_EOF || ctx->err == REDIS_ERR_IO);
    ctx.reset();
    return out;
  }

  // Opens the connection, sets the command timeout, authenticates and selects the db.
  Result<void> connect() {
    ctx.reset();
    timeval tv = to_timeval(cfg.timeout_ms);
    ContextPtr c(cfg.unix_socket ? redisConnectUnixWithTimeout(cfg.host.c_str(), tv)
                                 : redisConnectWithTimeout(cfg.host.c_str(), cfg.port, tv));
    if (!c) return unavailable("cannot allocate a connection");
    if (c->err) return unavailable(c->errstr[0] ? c->errstr : "cannot connect");
    if (redisSetTimeout(c.get(), tv) != REDIS_OK) return unavailable("cannot set the timeout");
    ctx = std::move(c);

    if (!cfg.password.empty()) {
      std::vector<std::string_view> auth{"AUTH"};
      if (!cfg.username.empty()) auth.push_back(cfg.username);
      auth.push_back(cfg.password);
      Sent s = send(auth);
      if (!s.reply) return unavailable(s.reason);
      if (s.reply->type != REDIS_REPLY_STATUS) {
        ctx.reset();
        std::string msg = s.reply->type == REDIS_REPLY_ERROR ? std::string(s.reply->str, s.reply->len)
                                                             : reply_type_name(s.reply->type);
        // Redis does not echo the password, but make sure no reply of ours ever does.
        for (size_t at; (at = msg.find(cfg.password)) != std::string::npos;)
          msg.replace(at, cfg.password.size(), "***");
        return unavailable("authentication failed: " + msg);
      }
    }
    if (cfg.db != 0) {
      std::string db = std::to_string(cfg.db);
      Sent s = send({"SELECT", db});
      if (!s.reply) return unavailable(s.reason);
      if (s.reply->type != REDIS_REPLY_STATUS) {
        ctx.reset();
        return unexpected("SELECT", *s.reply);
      }
    }
    return {};
  }

  // Runs a command, connecting first if needed; retries once on a fresh connection
  // when an older one turns out to be closed (Redis restarted since the last call).
  Result<ReplyPtr> run(const std::vector<std::string_view>& args) {
    SigpipeGuard guard;
    bool fresh = false;
    if (!ctx) {
      if (auto c = connect(); !c) return c.error();
      fresh = true;
    }
    Sent s = send(args);
    if (s.reply) return std::move(s.reply);
    if (fresh || !s.retryable) return unavailable(s.reason);
    if (auto c = connect(); !c) return c.error();
    s = send(args);
    if (s.reply) return std::move(s.reply);
    return unavailable(s.reason);
  }

  Result<void> check_ttl(std::chrono::milliseconds ttl) const {
    // A key without a TTL would live forever; this is a bug in the caller.
    if (ttl.count() <= 0) return internal("refusing a TTL of " + std::to_string(ttl.count()) + " ms");
    return {};
  }
  Result<void> check_size(size_t size) const {
    if (size > kMaxStoreValueBytes)
      return internal("value of " + std::to_string(size) + " bytes is over the " +
                      std::to_string(kMaxStoreValueBytes) + "-byte limit");
    return {};
  }

  // GET and GETDEL: a string, or nil for a missing key.
  Lookup lookup(const char* command, std::string_view key, std::vector<std::string_view> more = {}) {
    std::string name = prefixed(key);
    std::vector<std::string_view> args = {command, name};
    args.insert(args.end(), more.begin(), more.end());
    auto r = run(args);
    if (!r) return r.error();
    const redisReply& reply = **r;
    if (reply.type == REDIS_REPLY_NIL) return std::optional<std::string>();
    if (reply.type != REDIS_REPLY_STRING) return unexpected(command, reply);
    if (auto sz = check_size(reply.len); !sz) return sz.error();
    return std::optional<std::string>(std::string(reply.str, reply.len));
  }

  Result<long long> integer(const std::vector<std::string_view>& args) {
    auto r = run(args);
    if (!r) return r.error();
    if ((*r)->type != REDIS_REPLY_INTEGER) return unexpected(args[0], **r);
    return (*r)->integer;
  }
};

RedisStore::RedisStore(const RedisConfig& config) : impl_(std::make_unique<Impl>(config)) {}
RedisStore::~RedisStore() = default;

Lookup RedisStore::get(std::string_view key) {
  return impl_->lookup("GET", key);
}

Result<void> RedisStore::set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
  if (auto t = impl_->check_ttl(ttl); !t) return t.error();
  if (auto s = impl_->check_size(value.size()); !s) return s.error();
  std::string px = std::to_string(ttl.count());
  auto r = impl_->run({"SET", impl_->prefixed(key), value, "PX", px});
  if (!r) return r.error();
  if ((*r)->type != REDIS_REPLY_STATUS) return impl_->unexpected("SET", **r);
  return {};
}

Result<bool> RedisStore::set_if_absent(std::string_view key, std::string_view value,
                                       std::chrono::milliseconds ttl) {
  if (auto t = impl_->check_ttl(ttl); !t) return t.error();
  if (auto s = impl_->check_size(value.size()); !s) return s.error();
  std::string px = std::to_string(ttl.count());
  auto r = impl_->run({"SET", impl_->prefixed(key), value, "NX", "PX", px});
  if (!r) return r.error();
  if ((*r)->type == REDIS_REPLY_STATUS) return true;
  if ((*r)->type == REDIS_REPLY_NIL) return false;
  return impl_->unexpected("SET NX", **r);
}

Result<bool> RedisStore::set_if_exists(std::string_view key, std::string_view value,
                                       std::chrono::milliseconds ttl) {
  if (auto t = impl_->check_ttl(ttl); !t) return t.error();
  if (auto s = impl_->check_size(value.size()); !s) return s.error();
  std::string px = std::to_string(ttl.count());
  auto r = impl_->run({"SET", impl_->prefixed(key), value, "XX", "PX", px});
  if (!r) return r.error();
  if ((*r)->type == REDIS_REPLY_STATUS) return true;
  if ((*r)->type == REDIS_REPLY_NIL) return false;
  return impl_->unexpected("SET XX", **r);
}

Lookup RedisStore::get_and_expire(std::string_view key, std::chrono::milliseconds ttl) {
  if (auto t = impl_->check_ttl(ttl); !t) return t.error();
  std::string px = std::to_string(ttl.count());
  return impl_->lookup("GETEX", key, {"PX", px});
}

Lookup RedisStore::take(std::string_view key) {
  return impl_->lookup("GETDEL", key);
}

Result<bool> RedisStore::remove(std::string_view key) {
  auto n = impl_->integer({"DEL", impl_->prefixed(key)});
  if (!n) return n.error();
  return *n > 0;
}

Result<bool> RedisStore::remove_if_equals(std::string_view key, std::string_view value) {
  // Compare and delete in one step, so a lock is never released after someone else took it.
  static constexpr std::string_view script =
      "if redis.call('get',KEYS[1])==ARGV[1] then return redis.call('del',KEYS[1]) else return 0 end";
  auto n = impl_->integer({"EVAL", script, "1", impl_->prefixed(key), value});
  if (!n) return n.error();
  return *n > 0;
}

Result<bool> RedisStore::expire_if_equals(std::string_view key, std::string_view value,
                                          std::chrono::milliseconds ttl) {
  // Extends a lock's lease only while its owner still holds it.
  static constexpr std::string_view script = "if redis.call('get',KEYS[1])==ARGV[1] then return "
                                             "redis.call('pexpire',KEYS[1],ARGV[2]) else return 0 end";
  if (auto t = impl_->check_ttl(ttl); !t) return t.error();
  std::string px = std::to_string(ttl.count());
  auto n = impl_->integer({"EVAL", script, "1", impl_->prefixed(key), value, px});
  if (!n) return n.error();
  return *n > 0;
}

Result<long long> RedisStore::add(std::string_view key, long long delta, std::chrono::milliseconds ttl,
                                  long long ceiling) {
  // One script: a counter is never seen, or left, at 0 or below, nor without its TTL,
  // nor past its ceiling.
  static constexpr std::string_view script =
      "local d=tonumber(ARGV[1]) local c=tonumber(ARGV[3]) "
      "if d>0 and tonumber(redis.call('get',KEYS[1]) or '0')+d>c then return c+1 end "
      "local n=redis.call('incrby',KEYS[1],d) "
      "if n<=0 then redis.call('del',KEYS[1]) return 0 end "
      "if d>0 then redis.call('pexpire',KEYS[1],ARGV[2]) end return n";
  if (auto t = impl_->check_ttl(ttl); !t) return t.error();
  std::string by = std::to_string(delta), px = std::to_string(ttl.count()), most = std::to_string(ceiling);
  return impl_->integer({"EVAL", script, "1", impl_->prefixed(key), by, px, most});
}

Result<bool> RedisStore::expire(std::string_view key, std::chrono::milliseconds ttl) {
  // PEXPIRE with a non-positive TTL deletes the key: that is remove()'s job.
  if (auto t = impl_->check_ttl(ttl); !t) return t.error();
  std::string px = std::to_string(ttl.count());
  auto n = impl_->integer({"PEXPIRE", impl_->prefixed(key), px});
  if (!n) return n.error();
  return *n == 1;
}

Result<std::optional<std::chrono::milliseconds>> RedisStore::ttl(std::string_view key) {
  auto n = impl_->integer({"PTTL", impl_->prefixed(key)});
  if (!n) return n.error();
  if (*n == -2) return std::optional<std::chrono::milliseconds>();
  return std::optional<std::chrono::milliseconds>(std::chrono::milliseconds(*n)); // -1: no TTL
}

Result<void> RedisStore::ping() {
  auto r = impl_->run({"PING"});
  if (!r) return r.error();
  if ((*r)->type != REDIS_REPLY_STATUS) return impl_->unexpected("PING", **r);
  return {};
}

} // namespace oauthfcgi
