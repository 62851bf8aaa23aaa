#include "cache/lru_cache.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "cache/glob.h"

namespace comms::cache {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  LruCache::Clock fn() {
    return [this] { return now; };
  }
};

TEST(GlobMatch, StarQuestionAndEscapes) {
  EXPECT_TRUE(glob_match("prefs:*", "prefs:cust-1"));
  EXPECT_TRUE(glob_match("prefs:*", "prefs:"));
  EXPECT_FALSE(glob_match("prefs:*", "prefx:cust-1"));
  EXPECT_TRUE(glob_match("*:cust-?", "prefs:cust-1"));
  EXPECT_FALSE(glob_match("*:cust-?", "prefs:cust-12"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("lit\\*", "lit*"));
  EXPECT_FALSE(glob_match("lit\\*", "litx"));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "x"));
  // Pathological patterns stay fast (no exponential backtracking).
  EXPECT_FALSE(glob_match("a*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

TEST(LruCache, GetSetRemove) {
  LruCache c;
  EXPECT_FALSE(c.get("k"));
  c.set("k", "v");
  EXPECT_EQ(c.get("k"), "v");
  c.set("k", "w");
  EXPECT_EQ(c.get("k"), "w");
  EXPECT_EQ(c.size(), 1u);
  EXPECT_TRUE(c.remove("k"));
  EXPECT_FALSE(c.remove("k"));
  EXPECT_FALSE(c.get("k"));
  const auto s = c.stats();
  EXPECT_EQ(s.hits, 2);
  EXPECT_EQ(s.misses, 2);
}

TEST(LruCache, EvictsLeastRecentlyUsed) {
  LruCache c({.capacity = 2});
  c.set("a", "1");
  c.set("b", "2");
  EXPECT_EQ(c.get("a"), "1");  // a is now the most recent
  c.set("c", "3");             // evicts b
  EXPECT_TRUE(c.get("a"));
  EXPECT_FALSE(c.get("b"));
  EXPECT_TRUE(c.get("c"));
  EXPECT_EQ(c.stats().evictions, 1);
  c.set("a", "1'");  // an update refreshes recency without growing
  c.set("d", "4");   // evicts c
  EXPECT_FALSE(c.get("c"));
  EXPECT_EQ(c.get("a"), "1'");
}

TEST(LruCache, EntriesExpireAfterTheirTtl) {
  FakeClock clock;
  LruCache c({.capacity = 10, .default_ttl = 1000ms}, clock.fn());
  c.set("default", "x");
  c.set("short", "y", 100ms);
  clock.now += 99ms;
  EXPECT_TRUE(c.get("short"));
  clock.now += 1ms;
  EXPECT_FALSE(c.get("short"));
  EXPECT_TRUE(c.get("default"));
  clock.now += 900ms;
  EXPECT_FALSE(c.get("default"));
  EXPECT_EQ(c.stats().expirations, 2);
  EXPECT_EQ(c.size(), 0u);
  c.set("again", "z", 100ms);  // set after expiry starts a new ttl
  clock.now += 50ms;
  EXPECT_TRUE(c.get("again"));
}

TEST(LruCache, RemoveByPatternDropsOnlyMatches) {
  LruCache c;
  c.set("prefs:a", "1");
  c.set("prefs:b", "2");
  c.set("recipient:a", "3");
  EXPECT_EQ(c.remove_by_pattern("prefs:*"), 2u);
  EXPECT_FALSE(c.get("prefs:a"));
  EXPECT_FALSE(c.get("prefs:b"));
  EXPECT_EQ(c.get("recipient:a"), "3");
  EXPECT_EQ(c.remove_by_pattern("nothing*"), 0u);
  c.set("prefs:c", "4");  // the index stays consistent after pattern removal
  EXPECT_EQ(c.get("prefs:c"), "4");
  EXPECT_EQ(c.size(), 2u);
}

TEST(LruCache, ZeroCapacityIsRejected) {
  EXPECT_THROW(LruCache({.capacity = 0}), std::invalid_argument);
}

TEST(MemoryCache, ImplementsTheAsyncInterface) {
  MemoryCache mc;
  Cache& c = mc;
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<std::optional<std::string>> {
        co_await c.set("prefs:x", "v", {});
        co_await c.set("prefs:y", "w", 10ms);
        auto before = co_await c.get("prefs:x");
        EXPECT_EQ(before, "v");
        co_await c.remove("prefs:x");
        EXPECT_FALSE(co_await c.get("prefs:x"));
        co_await c.remove_by_pattern("prefs:*");
        co_return co_await c.get("prefs:y");
      },
      boost::asio::use_future);
  io.run();
  EXPECT_FALSE(f.get());
}

}  // namespace
}  // namespace comms::cache
