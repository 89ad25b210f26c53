// The [redis] url parser (redis_url.cpp): every form it takes, and refusals that
// never show the password.
#include <gtest/gtest.h>

#include <string>

#include "store.hpp"

using namespace oauthfcgi;

namespace {

TEST(ParseRedisUrl, HostPortAndDb) {
  RedisConfig c;
  ASSERT_TRUE(parse_redis_url("redis://10.0.0.7:6380/4", c).ok());
  EXPECT_FALSE(c.unix_socket);
  EXPECT_EQ(c.host, "10.0.0.7");
  EXPECT_EQ(c.port, 6380);
  EXPECT_EQ(c.db, 4);
  EXPECT_EQ(c.password, "");
  EXPECT_EQ(c.url, "redis://10.0.0.7:6380/4");
}

TEST(ParseRedisUrl, DefaultsForPortAndDb) {
  for (const char* url : {"redis://cache.internal", "redis://cache.internal/", "REDIS://cache.internal"}) {
    RedisConfig c;
    c.db = 9;
    c.password = "stale";
    ASSERT_TRUE(parse_redis_url(url, c).ok()) << url;
    EXPECT_EQ(c.host, "cache.internal") << url;
    EXPECT_EQ(c.port, 6379) << url;
    EXPECT_EQ(c.db, 0) << url;
    EXPECT_EQ(c.password, "") << url;
  }
}

TEST(ParseRedisUrl, PasswordAndUserArePercentDecoded) {
  RedisConfig c;
  ASSERT_TRUE(parse_redis_url("redis://:p%40ss%3Aw%2Fd+x@127.0.0.1:6379/1", c).ok());
  EXPECT_EQ(c.username, "");
  EXPECT_EQ(c.password, "p@ss:w/d+x");
  ASSERT_TRUE(parse_redis_url("redis://app%20user:pw@localhost/2", c).ok());
  EXPECT_EQ(c.username, "app user");
  EXPECT_EQ(c.password, "pw");
  EXPECT_EQ(c.host, "localhost");
  EXPECT_EQ(c.db, 2);
}

TEST(ParseRedisUrl, Ipv6HostInBrackets) {
  RedisConfig c;
  ASSERT_TRUE(parse_redis_url("redis://[::1]:7000/0", c).ok());
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 7000);
  ASSERT_TRUE(parse_redis_url("redis://[::1]", c).ok());
  EXPECT_EQ(c.port, 6379);
}

TEST(ParseRedisUrl, UnixSocketWithDbAndPassword) {
  RedisConfig c;
  ASSERT_TRUE(parse_redis_url("unix:///run/redis/redis.sock?db=3", c).ok());
  EXPECT_TRUE(c.unix_socket);
  EXPECT_EQ(c.host, "/run/redis/redis.sock");
  EXPECT_EQ(c.db, 3);
  ASSERT_TRUE(parse_redis_url("unix:///run/redis.sock", c).ok());
  EXPECT_EQ(c.db, 0);
  ASSERT_TRUE(parse_redis_url("unix://:se%23cret@/run/redis.sock", c).ok());
  EXPECT_EQ(c.password, "se#cret");
  EXPECT_EQ(c.host, "/run/redis.sock");
  // Switching back to TCP clears the socket flag.
  ASSERT_TRUE(parse_redis_url("redis://h:1/0", c).ok());
  EXPECT_FALSE(c.unix_socket);
}

TEST(ParseRedisUrl, BadUrlsAreConfigErrorsThatNeverShowThePassword) {
  const char* bad[] = {
      "",
      "http://127.0.0.1:6379",
      "rediss://:topsecret@host:6380",
      "redis://",
      "redis:///0",
      "redis://host:0",
      "redis://host:65536",
      "redis://host:abc",
      "redis://host:",
      "redis://host/x",
      "redis://host/-1",
      "redis://host/0?x=1",
      "redis://host/0#frag",
      "redis://topsecret@host",
      "redis://user:@host",
      "redis://:top/secret@host",
      "redis://[::1",
      "redis://[::1]x",
      "unix://",
      "unix:///",
      "unix://host/run/redis.sock",
      "unix:///run/redis.sock?db=x",
      "unix:///run/redis.sock?db=1&db=2",
      "unix:///run/redis.sock?password=topsecret",
  };
  for (const char* url : bad) {
    RedisConfig c;
    auto r = parse_redis_url(url, c);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.error().kind, ErrorKind::config) << url;
    EXPECT_EQ(r.error().reason.find("topsecret"), std::string::npos) << r.error().reason;
    EXPECT_EQ(r.error().reason.find("secret@"), std::string::npos) << r.error().reason;
  }
}

} // namespace
