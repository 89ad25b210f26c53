// RedisStore against real redis-server processes, and the MemoryStore fake other
// tests rely on.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "memory_store.hpp"
#include "store.hpp"
#include "test_util.hpp"

using namespace oauthfcgi;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// add(): a counter with a TTL from its last increase, never at or below 0 (then gone).
void expect_counter(Store& store) {
  EXPECT_EQ(*store.add("n", 1, 60s, 9), 1);
  EXPECT_EQ(*store.add("n", 1, 60s, 9), 2);
  EXPECT_GT(**store.ttl("n"), 50s);
  EXPECT_EQ(*store.add("n", -1, 60s, 9), 1);
  EXPECT_EQ(*store.add("n", -1, 60s, 9), 0);
  EXPECT_FALSE(store.ttl("n")->has_value()) << "a counter at 0 is deleted";
  EXPECT_EQ(*store.add("n", -1, 60s, 9), 0) << "never below 0";
  EXPECT_FALSE(store.ttl("n")->has_value()) << "and no key is left without a TTL";
  EXPECT_FALSE(store.add("n", 1, 0ms, 9).ok());
}

// At its ceiling a counter refuses more, and a refusal does not renew its TTL.
void expect_ceiling(Store& store) {
  EXPECT_EQ(*store.add("c", 2, 60s, 3), 2);
  EXPECT_EQ(*store.add("c", 1, 60s, 3), 3);
  ASSERT_TRUE(store.expire("c", 5s).ok());
  EXPECT_EQ(*store.add("c", 1, 60s, 3), 4) << "past the ceiling: ceiling + 1";
  EXPECT_LE(**store.ttl("c"), 5s) << "a refused increase leaves the TTL alone";
  EXPECT_EQ(*store.add("c", -1, 60s, 3), 2) << "and the count too";
}

milliseconds since(steady_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - t);
}

// A redis-server with extra arguments (password, unix socket), restartable on the
// same port; RedisServer covers only the plain case.
class CustomRedis {
public:
  explicit CustomRedis(std::vector<std::string> extra, std::string password = {})
      : port_(testutil::free_port()), extra_(std::move(extra)), password_(std::move(password)) {
    start();
  }
  ~CustomRedis() { stop(); }

  void start() {
    std::vector<std::string> argv = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir_.path(),
                                     "--daemonize",
                                     "no",
                                     "--loglevel",
                                     "warning"};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    proc_ = testutil::Process(argv, {}, dir_.file("redis.log"));
    bool up = testutil::wait_until([&] { return testutil::port_open(port_) && cli({"PING"}) == "PONG"; });
    if (!up)
      throw std::runtime_error("redis-server did not start: " + testutil::read_file(dir_.file("redis.log")));
  }
  void stop() { proc_.stop(SIGTERM, std::chrono::seconds(10)); }
  pid_t pid() const { return proc_.pid(); }
  int port() const { return port_; }
  std::string socket_path() const { return dir_.file("redis.sock"); }
  const testutil::TempDir& dir() const { return dir_; }

  std::string cli(std::vector<std::string> args, int db = 0) {
    std::vector<std::string> argv = {"redis-cli",           "-h", "127.0.0.1",       "-p",
                                     std::to_string(port_), "-n", std::to_string(db)};
    if (!password_.empty()) argv.insert(argv.end(), {"--no-auth-warning", "-a", password_});
    argv.insert(argv.end(), args.begin(), args.end());
    auto [code, out] = testutil::run(argv, {}, std::chrono::seconds(5));
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
      out.pop_back();
    return code == 0 ? out : "";
  }

  RedisConfig config(int db = 0) const {
    RedisConfig c;
    c.host = "127.0.0.1";
    c.port = port_;
    c.db = db;
    c.password = password_;
    c.key_prefix = "t:";
    c.timeout_ms = 500;
    return c;
  }

private:
  testutil::TempDir dir_; // first: the socket path and logs live here
  int port_;
  std::vector<std::string> extra_;
  std::string password_;
  testutil::Process proc_;
};

// One plain server for the tests that need nothing special; each test gets its own
// key_prefix, so tests do not see each other's keys.
class RedisStoreTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() { server_ = new testutil::RedisServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  RedisConfig config() const {
    RedisConfig c;
    c.host = "127.0.0.1";
    c.port = server_->port();
    c.key_prefix = prefix();
    c.timeout_ms = 500;
    return c;
  }
  static std::string prefix() {
    return std::string("t:") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ":";
  }
  static std::string cli(const std::vector<std::string>& args) { return server_->cli(args); }

  static testutil::RedisServer* server_;
};
testutil::RedisServer* RedisStoreTest::server_ = nullptr;

std::optional<std::string> value_of(const Lookup& r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().reason);
  return r.ok() ? r.value() : std::nullopt;
}

// ---- basic commands ---------------------------------------------------------

TEST_F(RedisStoreTest, GetReturnsTheValueThatWasSet) {
  RedisStore store(config());
  ASSERT_TRUE(store.set("k", "hello", 10s).ok());
  EXPECT_EQ(value_of(store.get("k")), "hello");
  ASSERT_TRUE(store.set("k", "again", 10s).ok());
  EXPECT_EQ(value_of(store.get("k")), "again");
}

TEST_F(RedisStoreTest, GetOfAMissingKeyIsNotFoundNotAnError) {
  RedisStore store(config());
  auto r = store.get("nothing-here");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST_F(RedisStoreTest, EveryWrittenKeyHasATtl) {
  RedisStore store(config());
  ASSERT_TRUE(store.set("a", "1", 30s).ok());
  ASSERT_TRUE(store.set_if_absent("b", "2", 5s).ok());
  for (auto [key, max] : {std::pair{"a", 30000}, std::pair{"b", 5000}}) {
    long pttl = std::stol(cli({"PTTL", prefix() + key}));
    EXPECT_GT(pttl, 0) << key;
    EXPECT_LE(pttl, max) << key;
  }
}

TEST_F(RedisStoreTest, KeyPrefixIsPutInFrontOfEveryKey) {
  RedisStore store(config());
  ASSERT_TRUE(store.set("mine", "v", 10s).ok());
  EXPECT_EQ(cli({"KEYS", prefix() + "*"}), prefix() + "mine");
  EXPECT_EQ(cli({"EXISTS", "mine"}), "0");
  EXPECT_EQ(cli({"GET", prefix() + "mine"}), "v");
  // Reads and deletes go through the prefix too.
  cli({"SET", prefix() + "theirs", "x", "PX", "10000"});
  EXPECT_EQ(value_of(store.take("theirs")), "x");
  EXPECT_EQ(cli({"EXISTS", prefix() + "theirs"}), "0");
}

TEST_F(RedisStoreTest, BinaryValuesWithNulBytesRoundTrip) {
  RedisStore store(config());
  const std::string value("a\0b\r\n\xff\x00z", 8);
  const std::string key("k\0ey", 4);
  ASSERT_TRUE(store.set(key, value, 10s).ok());
  EXPECT_EQ(value_of(store.get(key)), value);
  EXPECT_EQ(value_of(store.take(key)), value);
}

TEST_F(RedisStoreTest, SetIfAbsentCreatesOnceThenReportsFalse) {
  RedisStore store(config());
  auto first = store.set_if_absent("lock", "one", 10s);
  auto second = store.set_if_absent("lock", "two", 10s);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
  EXPECT_EQ(value_of(store.get("lock")), "one");
}

// A session written back after a refresh must not come back once a logout deleted it.
TEST_F(RedisStoreTest, SetIfExistsRewritesOnlyAKeyThatIsThere) {
  RedisStore store(config());
  auto absent = store.set_if_exists("session", "resurrected", 10s);
  ASSERT_TRUE(absent.ok()) << absent.error().reason;
  EXPECT_FALSE(*absent);
  EXPECT_EQ(cli({"EXISTS", prefix() + "session"}), "0") << "a deleted key was created";
  ASSERT_TRUE(store.set("session", "v1", 100s).ok());
  auto present = store.set_if_exists("session", "v2", 5s);
  ASSERT_TRUE(present.ok());
  EXPECT_TRUE(*present);
  EXPECT_EQ(value_of(store.get("session")), "v2");
  long pttl = std::stol(cli({"PTTL", prefix() + "session"}));
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 5000) << "the TTL is the one given";
  EXPECT_EQ(store.set_if_exists("session", "v", 0ms).error().kind, ErrorKind::internal);
  EXPECT_EQ(store.set_if_exists("session", std::string(kMaxStoreValueBytes + 1, 'x'), 1s).error().kind,
            ErrorKind::internal);
  EXPECT_EQ(value_of(store.get("session")), "v2");
}

TEST_F(RedisStoreTest, TakeReturnsTheValueOnceThenNotFound) {
  RedisStore store(config());
  ASSERT_TRUE(store.set("state", "s", 10s).ok());
  EXPECT_EQ(value_of(store.take("state")), "s");
  auto again = store.take("state");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(RedisStoreTest, ConcurrentTakesOfOneKeyHaveExactlyOneWinner) {
  constexpr int kKeys = 200;
  {
    RedisStore setup(config());
    for (int i = 0; i < kKeys; ++i)
      ASSERT_TRUE(setup.set("s" + std::to_string(i), "v" + std::to_string(i), 10s).ok());
  }
  std::vector<std::atomic<int>> winners(kKeys);
  std::atomic<int> failures{0};
  auto worker = [&] {
    RedisStore store(config()); // each worker thread owns its store
    for (int i = 0; i < kKeys; ++i) {
      auto r = store.take("s" + std::to_string(i));
      if (!r.ok())
        ++failures;
      else if (r->has_value() && **r == "v" + std::to_string(i))
        ++winners[i];
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < kKeys; ++i)
    EXPECT_EQ(winners[i].load(), 1) << "key " << i;
}

TEST_F(RedisStoreTest, GetAndExpireReadsAndSetsTheTtlInOneStep) {
  RedisStore store(config());
  ASSERT_TRUE(store.set("s", "v", 2s).ok());
  EXPECT_EQ(value_of(store.get_and_expire("s", 60s)), "v");
  auto ttl = store.ttl("s");
  ASSERT_TRUE(ttl.ok() && ttl->has_value());
  EXPECT_GT(**ttl, 50s);
  EXPECT_FALSE(value_of(store.get_and_expire("missing", 60s)).has_value());
  EXPECT_FALSE(store.get_and_expire("s", 0s).ok()) << "a TTL is always required";
}

TEST_F(RedisStoreTest, ExpireIfEqualsExtendsOnlyTheOwnersLease) {
  RedisStore store(config());
  ASSERT_TRUE(store.set("lock", "owner-a", 1s).ok());
  EXPECT_FALSE(*store.expire_if_equals("lock", "owner-b", 60s));
  EXPECT_LE(**store.ttl("lock"), 1s);
  EXPECT_TRUE(*store.expire_if_equals("lock", "owner-a", 60s));
  EXPECT_GT(**store.ttl("lock"), 50s);
  EXPECT_FALSE(*store.expire_if_equals("gone", "owner-a", 60s));
}

TEST_F(RedisStoreTest, RemoveIfEqualsDeletesOnlyWithTheMatchingValue) {
  RedisStore store(config());
  ASSERT_TRUE(store.set("lock", "owner-a", 10s).ok());
  auto wrong = store.remove_if_equals("lock", "owner-b");
  ASSERT_TRUE(wrong.ok());
  EXPECT_FALSE(*wrong);
  EXPECT_EQ(value_of(store.get("lock")), "owner-a");
  auto right = store.remove_if_equals("lock", "owner-a");
  ASSERT_TRUE(right.ok());
  EXPECT_TRUE(*right);
  EXPECT_FALSE(value_of(store.get("lock")).has_value());
  auto missing = store.remove_if_equals("lock", "owner-a");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(*missing);
}

TEST_F(RedisStoreTest, AddCountsWithATtlAndNeverBelowZero) {
  RedisStore store(config());
  expect_counter(store);
}

TEST_F(RedisStoreTest, AddPastTheCeilingChangesNothing) {
  RedisStore store(config());
  expect_ceiling(store);
}

TEST_F(RedisStoreTest, RemoveReportsWhetherAKeyExisted) {
  RedisStore store(config());
  ASSERT_TRUE(store.set("k", "v", 10s).ok());
  auto first = store.remove("k");
  auto second = store.remove("k");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*second);
}

TEST_F(RedisStoreTest, ExpireAndTtlFollowTheKey) {
  RedisStore store(config());
  auto none = store.ttl("k");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto expire_missing = store.expire("k", 1s);
  ASSERT_TRUE(expire_missing.ok());
  EXPECT_FALSE(*expire_missing);

  ASSERT_TRUE(store.set("k", "v", 60s).ok());
  auto t = store.ttl("k");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_GT(**t, 50s);
  EXPECT_LE(**t, 60s);

  auto extended = store.expire("k", 2s);
  ASSERT_TRUE(extended.ok());
  EXPECT_TRUE(*extended);
  t = store.ttl("k");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_GT(**t, 0ms);
  EXPECT_LE(**t, 2s);

  ASSERT_TRUE(store.set("short", "v", 50ms).ok());
  EXPECT_TRUE(testutil::wait_until([&] { return !value_of(store.get("short")).has_value(); }, 2s));
}

TEST_F(RedisStoreTest, TtlOfAKeyWithoutExpiryIsMinusOne) {
  RedisStore store(config());
  cli({"SET", prefix() + "forever", "v"});
  auto t = store.ttl("forever");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ(**t, milliseconds(-1));
}

TEST_F(RedisStoreTest, NonPositiveTtlIsRefusedAndNothingIsWritten) {
  RedisStore store(config());
  for (auto ttl : {0ms, -1ms, -5000ms}) {
    auto s = store.set("k", "v", ttl);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().kind, ErrorKind::internal);
    auto n = store.set_if_absent("k", "v", ttl);
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error().kind, ErrorKind::internal);
  }
  EXPECT_EQ(cli({"EXISTS", prefix() + "k"}), "0");
  // PEXPIRE with 0 would delete the key: refused as well.
  ASSERT_TRUE(store.set("k", "v", 10s).ok());
  auto e = store.expire("k", 0ms);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::internal);
  EXPECT_EQ(value_of(store.get("k")), "v");
}

TEST_F(RedisStoreTest, ValuesOverTheCeilingAreRefused) {
  RedisStore store(config());
  auto w = store.set("big", std::string(kMaxStoreValueBytes + 1, 'x'), 10s);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().kind, ErrorKind::internal);
  ASSERT_TRUE(store.set("max", std::string(kMaxStoreValueBytes, 'x'), 10s).ok());
  EXPECT_EQ(value_of(store.get("max"))->size(), kMaxStoreValueBytes);

  // Written by someone else: refused on the way in.
  cli({"SETRANGE", prefix() + "big", std::to_string(kMaxStoreValueBytes), "x"});
  auto r = store.get("big");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::internal);
  EXPECT_NE(r.error().reason.find("limit"), std::string::npos);
  // The connection is still usable afterwards.
  EXPECT_TRUE(store.ping().ok());
}

TEST_F(RedisStoreTest, PingAnswers) {
  RedisStore store(config());
  EXPECT_TRUE(store.ping().ok());
}

// ---- auth, db, unix socket ---------------------------------------------------

TEST(RedisStoreAuth, PasswordAndUserPasswordAreAccepted) {
  CustomRedis redis({"--requirepass", "s3cret-pw"}, "s3cret-pw");
  RedisStore store(redis.config());
  ASSERT_TRUE(store.set("k", "v", 10s).ok());
  EXPECT_EQ(redis.cli({"GET", "t:k"}), "v");

  RedisConfig acl = redis.config();
  acl.username = "default";
  RedisStore acl_store(acl);
  EXPECT_EQ(value_of(acl_store.get("k")), "v");
}

TEST(RedisStoreAuth, WrongOrMissingPasswordFailsWithoutShowingIt) {
  CustomRedis redis({"--requirepass", "s3cret-pw"}, "s3cret-pw");
  RedisConfig wrong = redis.config();
  wrong.password = "Wr0ng-Pa55word";
  RedisStore store(wrong);
  auto r = store.get("k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::store_unavailable);
  EXPECT_NE(r.error().reason.find("127.0.0.1:" + std::to_string(redis.port())), std::string::npos)
      << r.error().reason;
  EXPECT_EQ(r.error().reason.find("Wr0ng-Pa55word"), std::string::npos) << r.error().reason;
  EXPECT_EQ(r.error().reason.find("s3cret-pw"), std::string::npos) << r.error().reason;

  RedisConfig none = redis.config();
  none.password.clear();
  RedisStore anonymous(none);
  auto a = anonymous.set("k", "v", 10s);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().kind, ErrorKind::store_unavailable);
  EXPECT_NE(a.error().reason.find("NOAUTH"), std::string::npos) << a.error().reason;
}

TEST(RedisStoreDb, SelectsTheConfiguredDatabase) {
  CustomRedis redis({});
  RedisStore store(redis.config(3));
  ASSERT_TRUE(store.set("k", "in-three", 10s).ok());
  EXPECT_EQ(redis.cli({"GET", "t:k"}, 3), "in-three");
  EXPECT_EQ(redis.cli({"EXISTS", "t:k"}, 0), "0");
}

TEST(RedisStoreUnix, ConnectsOverAUnixSocket) {
  testutil::TempDir dir;
  CustomRedis redis({"--unixsocket", dir.file("r.sock"), "--unixsocketperm", "700"});
  RedisConfig c;
  ASSERT_TRUE(parse_redis_url("unix://" + dir.file("r.sock") + "?db=2", c).ok());
  c.key_prefix = "u:";
  RedisStore store(c);
  ASSERT_TRUE(store.set("k", "over-unix", 10s).ok());
  EXPECT_EQ(value_of(store.get("k")), "over-unix");
  EXPECT_EQ(redis.cli({"GET", "u:k"}, 2), "over-unix");

  c.host = dir.file("missing.sock");
  RedisStore missing(c);
  auto r = missing.ping();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::store_unavailable);
  EXPECT_NE(r.error().reason.find("missing.sock"), std::string::npos) << r.error().reason;
}

// ---- failures and recovery -----------------------------------------------------

TEST(RedisStoreFailure, StoppedRedisIsUnavailableQuickly) {
  CustomRedis redis({});
  RedisStore used(redis.config());
  ASSERT_TRUE(used.ping().ok());
  redis.stop();

  auto t0 = steady_clock::now();
  auto r = used.get("k"); // closed connection, retried once, refused
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::store_unavailable);
  EXPECT_LT(since(t0), 1000ms);

  RedisStore fresh(redis.config());
  t0 = steady_clock::now();
  auto f = fresh.set("k", "v", 1s);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().kind, ErrorKind::store_unavailable);
  EXPECT_NE(f.error().reason.find("redis at 127.0.0.1:" + std::to_string(redis.port())), std::string::npos)
      << f.error().reason;
  EXPECT_LT(since(t0), 1000ms);

  // And it comes back by itself once Redis does.
  redis.start();
  EXPECT_TRUE(fresh.set("k", "v", 1s).ok());
}

TEST(RedisStoreFailure, RestartedRedisIsReconnectedWithAuthAndDbOnTheNextCall) {
  CustomRedis redis({"--requirepass", "pw-for-restart"}, "pw-for-restart");
  RedisStore store(redis.config(5));
  ASSERT_TRUE(store.set("before", "1", 10s).ok());
  redis.stop();
  redis.start();
  // The first call after the restart must not fail: the closed connection is retried.
  auto s = store.set("after", "2", 10s);
  ASSERT_TRUE(s.ok()) << s.error().reason;
  EXPECT_EQ(redis.cli({"GET", "t:after"}, 5), "2");
  EXPECT_EQ(redis.cli({"EXISTS", "t:after"}, 0), "0");
  EXPECT_EQ(value_of(store.get("after")), "2");
}

TEST(RedisStoreFailure, RedisKilledHardIsSurvivedWithoutSigpipe) {
  CustomRedis redis({});
  RedisStore store(redis.config());
  ASSERT_TRUE(store.ping().ok());
  kill(redis.pid(), SIGKILL);
  redis.stop();
  // testutil::run ignores SIGPIPE process-wide; a FastCGI program might not.
  auto old = signal(SIGPIPE, SIG_DFL);
  // Large writes against a dead peer: none may kill the test with SIGPIPE.
  for (int i = 0; i < 3; ++i)
    EXPECT_FALSE(store.set("k", std::string(kMaxStoreValueBytes, 'x'), 1s).ok());
  signal(SIGPIPE, old);
  redis.start();
  EXPECT_TRUE(store.ping().ok());
}

TEST(RedisStoreFailure, SilentServerFailsWithinTheTimeout) {
  // Listens (the kernel completes the handshake) but never accepts or answers.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);

  RedisConfig c;
  c.host = "127.0.0.1";
  c.port = ntohs(addr.sin_port);
  c.timeout_ms = 200;
  RedisStore store(c);
  auto t0 = steady_clock::now();
  auto r = store.get("k");
  auto took = since(t0);
  close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::store_unavailable);
  EXPECT_NE(r.error().reason.find("no answer within 200 ms"), std::string::npos) << r.error().reason;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 1000ms);
}

TEST(RedisStoreFailure, HungRedisTimesOutOnceWithoutRetryThenRecovers) {
  CustomRedis redis({});
  RedisConfig c = redis.config();
  c.timeout_ms = 300;
  RedisStore store(c);
  ASSERT_TRUE(store.set("k", "v", 10s).ok());
  kill(redis.pid(), SIGSTOP);
  auto t0 = steady_clock::now();
  auto r = store.take("k");
  auto took = since(t0);
  kill(redis.pid(), SIGCONT);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::store_unavailable);
  // A timeout is not retried: the GETDEL may have run, and the wait would double.
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 550ms);
  EXPECT_TRUE(store.ping().ok());
}

// ---- MemoryStore (the fake other tests use) --------------------------------------

TEST(MemoryStore, KeysExpireWhenTheirTtlRunsOut) {
  testutil::MemoryStore store;
  ASSERT_TRUE(store.set("k", "v", 1000ms).ok());
  store.advance(999ms);
  EXPECT_EQ(value_of(store.get("k")), "v");
  auto t = store.ttl("k");
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_GT(**t, 0ms);
  EXPECT_LE(**t, 1ms);
  store.advance(1ms);
  EXPECT_FALSE(value_of(store.get("k")).has_value());
  auto gone = store.ttl("k");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  EXPECT_EQ(store.size(), 0u);
}

TEST(MemoryStore, AddCountsWithATtlAndNeverBelowZero) {
  testutil::MemoryStore store;
  expect_counter(store);
}

TEST(MemoryStore, AddPastTheCeilingChangesNothing) {
  testutil::MemoryStore store;
  expect_ceiling(store);
}

TEST(MemoryStore, TakeReturnsTheValueOnceThenNotFound) {
  testutil::MemoryStore store;
  ASSERT_TRUE(store.set("s", "v", 10s).ok());
  EXPECT_EQ(value_of(store.take("s")), "v");
  EXPECT_FALSE(value_of(store.take("s")).has_value());
}

TEST(MemoryStore, SetIfAbsentRemoveIfEqualsAndExpire) {
  testutil::MemoryStore store;
  EXPECT_TRUE(*store.set_if_absent("lock", "a", 1s));
  EXPECT_FALSE(*store.set_if_absent("lock", "b", 1s));
  EXPECT_FALSE(*store.remove_if_equals("lock", "b"));
  EXPECT_TRUE(*store.remove_if_equals("lock", "a"));
  EXPECT_TRUE(*store.set_if_absent("lock", "c", 1s));
  store.advance(1s); // an expired key counts as absent
  EXPECT_TRUE(*store.set_if_absent("lock", "d", 1s));
  EXPECT_TRUE(*store.expire("lock", 5s));
  store.advance(2s);
  EXPECT_EQ(value_of(store.get("lock")), "d");
  EXPECT_FALSE(*store.expire("missing", 5s));
  EXPECT_TRUE(*store.remove("lock"));
  EXPECT_FALSE(*store.remove("lock"));
}

TEST(MemoryStore, SetIfExistsRewritesOnlyAKeyThatIsThere) {
  testutil::MemoryStore store;
  EXPECT_FALSE(*store.set_if_exists("k", "v", 1s));
  EXPECT_FALSE(store.peek("k"));
  ASSERT_TRUE(store.set("k", "v1", 1s).ok());
  EXPECT_TRUE(*store.set_if_exists("k", "v2", 5s));
  store.advance(2s);
  EXPECT_EQ(value_of(store.get("k")), "v2") << "the TTL is the one given";
  store.advance(4s);
  EXPECT_FALSE(*store.set_if_exists("k", "v3", 1s)) << "an expired key counts as absent";
  EXPECT_EQ(store.set_if_exists("k", "v", 0ms).error().kind, ErrorKind::internal);
}

TEST(MemoryStore, RefusesWhatRedisStoreRefuses) {
  testutil::MemoryStore store;
  EXPECT_EQ(store.set("k", "v", 0ms).error().kind, ErrorKind::internal);
  EXPECT_EQ(store.set_if_absent("k", "v", -1ms).error().kind, ErrorKind::internal);
  EXPECT_EQ(store.set("k", std::string(kMaxStoreValueBytes + 1, 'x'), 1s).error().kind, ErrorKind::internal);
  ASSERT_TRUE(store.set("k", "v", 1s).ok());
  EXPECT_EQ(store.expire("k", 0ms).error().kind, ErrorKind::internal);
  EXPECT_EQ(store.keys(), std::vector<std::string>{"k"});
}

TEST(MemoryStore, UnavailableFailsEveryCallLikeRedisDown) {
  testutil::MemoryStore store;
  ASSERT_TRUE(store.set("k", "v", 1s).ok());
  store.set_unavailable(true);
  EXPECT_EQ(store.get("k").error().kind, ErrorKind::store_unavailable);
  EXPECT_EQ(store.take("k").error().kind, ErrorKind::store_unavailable);
  EXPECT_EQ(store.ping().error().kind, ErrorKind::store_unavailable);
  EXPECT_EQ(store.peek("k"), "v");
  store.set_unavailable(false);
  EXPECT_EQ(value_of(store.take("k")), "v");
}

TEST(MemoryStore, ConcurrentTakesHaveExactlyOneWinner) {
  testutil::MemoryStore store;
  constexpr int kKeys = 500;
  for (int i = 0; i < kKeys; ++i)
    ASSERT_TRUE(store.set(std::to_string(i), "v", 10s).ok());
  std::atomic<int> wins{0};
  auto worker = [&] {
    for (int i = 0; i < kKeys; ++i) {
      auto r = store.take(std::to_string(i));
      if (r.ok() && r->has_value()) ++wins;
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  EXPECT_EQ(wins.load(), kKeys);
}

} // namespace
