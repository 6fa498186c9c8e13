#include <gtest/gtest.h>

#include <stdexcept>

#include "redis_endpoint.h"

namespace cvagent::outputs::redis {
namespace {

TEST(RedisEndpoint, HostPortDatabase) {
  const Endpoint e = parseEndpoint("redis://cache.local:6380/3");
  EXPECT_FALSE(e.unix_socket);
  EXPECT_EQ(e.host, "cache.local");
  EXPECT_EQ(e.port, 6380);
  EXPECT_EQ(e.database, 3);
  EXPECT_TRUE(e.password.empty());
  EXPECT_EQ(e.redacted, "redis://cache.local:6380/3");
}

TEST(RedisEndpoint, DefaultsPortAndDatabase) {
  const Endpoint e = parseEndpoint("redis://redis");
  EXPECT_EQ(e.host, "redis");
  EXPECT_EQ(e.port, 6379);
  EXPECT_EQ(e.database, 0);
  EXPECT_EQ(e.redacted, "redis://redis:6379/0");
}

TEST(RedisEndpoint, UserAndPasswordAreDecodedAndRedacted) {
  const Endpoint e = parseEndpoint("redis://app:s3cr%40t@10.0.0.5:6379/1");
  EXPECT_EQ(e.username, "app");
  EXPECT_EQ(e.password, "s3cr@t");
  EXPECT_EQ(e.redacted, "redis://app:***@10.0.0.5:6379/1");
  const Endpoint only_password = parseEndpoint("redis://:hunter2@h:1/0");
  EXPECT_EQ(only_password.username, "");
  EXPECT_EQ(only_password.password, "hunter2");
  EXPECT_EQ(only_password.redacted.find("hunter2"), std::string::npos);
}

TEST(RedisEndpoint, Ipv6Host) {
  const Endpoint e = parseEndpoint("redis://[::1]:7000/2");
  EXPECT_EQ(e.host, "::1");
  EXPECT_EQ(e.port, 7000);
  EXPECT_EQ(e.redacted, "redis://[::1]:7000/2");
}

TEST(RedisEndpoint, UnixSocket) {
  const Endpoint e = parseEndpoint("unix:/run/redis/redis.sock?db=4");
  EXPECT_TRUE(e.unix_socket);
  EXPECT_EQ(e.host, "/run/redis/redis.sock");
  EXPECT_EQ(e.database, 4);
  EXPECT_EQ(parseEndpoint("unix:///tmp/r.sock").host, "/tmp/r.sock");
}

TEST(RedisEndpoint, TlsIsRecognised) { EXPECT_TRUE(parseEndpoint("rediss://h:6380/0").tls); }

TEST(RedisEndpoint, ErrorsNeverHoldThePassword) {
  for (const char* bad :
       {"redis://u:topsecret@h:99999/0", "redis://u:topsecret@h:1/x", "http://u:topsecret@h",
        "redis://u:topsecret%zz@h", "unix:rel.sock", "redis://u:topsecret@:1/0"}) {
    try {
      parseEndpoint(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("topsecret"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace cvagent::outputs::redis
