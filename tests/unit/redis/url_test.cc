#include "redis/url.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "redis/redis.h"

namespace comms::redis {
namespace {

TEST(RedisUrl, HostPortAndDatabase) {
  const RedisUrl u = parse_url("redis://cache.internal:6380/2");
  EXPECT_EQ(u.host, "cache.internal");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.db, 2);
  EXPECT_TRUE(u.password.empty());
  EXPECT_EQ(u.redacted(), "redis://cache.internal:6380/2");
}

TEST(RedisUrl, Defaults) {
  const RedisUrl u = parse_url("redis://localhost");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
  EXPECT_EQ(parse_url("redis://localhost/").db, 0);
  EXPECT_EQ(parse_url("redis://[::1]:7000/1").host, "::1");
  EXPECT_EQ(parse_url("redis://[::1]:7000/1").port, 7000);
  EXPECT_EQ(parse_url("redis://[::1]:7000/1").redacted(), "redis://[::1]:7000/1");
}

TEST(RedisUrl, PasswordIsDecodedAndNeverShown) {
  const RedisUrl u = parse_url("redis://:s3cr%40t%3Ax@10.0.0.5:6379/0");
  EXPECT_EQ(u.password, "s3cr@t:x");
  EXPECT_TRUE(u.user.empty());
  EXPECT_EQ(u.redacted(), "redis://***@10.0.0.5:6379/0");
  // The last '@' ends the credentials, so an unescaped '@' in a password works too.
  const RedisUrl v = parse_url("redis://app:p@ss@host:1");
  EXPECT_EQ(v.user, "app");
  EXPECT_EQ(v.password, "p@ss");
  EXPECT_EQ(v.host, "host");
}

TEST(RedisUrl, ErrorsNameTheProblemWithoutTheSecret) {
  for (const char* bad : {"http://host", "redis://", "redis://:pw@", "redis://host:0", "redis://host:99999",
                          "redis://host:port", "redis://host/x", "redis://hunter2@host", "redis://:%zzhunter2@h",
                          "redis://[::1"}) {
    try {
      parse_url(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    }
  }
}

TEST(ScanPattern, EscapesThePrefixAndBrackets) {
  EXPECT_EQ(scan_pattern("comms:", "prefs:*"), "comms:prefs:*");
  EXPECT_EQ(scan_pattern("a*b?[", "x"), "a\\*b\\?\\[x");
  // '?', '*' and escapes keep their meaning; brackets are literal in the cache's glob.
  EXPECT_EQ(scan_pattern("p:", "t?[1]*"), "p:t?\\[1\\]*");
  EXPECT_EQ(scan_pattern("p:", "lit\\*"), "p:lit\\*");
  EXPECT_EQ(scan_pattern("p:", "end\\"), "p:end\\\\");
}

}  // namespace
}  // namespace comms::redis
