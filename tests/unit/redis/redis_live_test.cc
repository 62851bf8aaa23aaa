// The redis module against a real redis-server (started per test; skipped when not installed).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "redis/hybrid_cache.h"
#include "redis/redis.h"
#include "redis/redis_backplane.h"
#include "redis/redis_bucket_store.h"
#include "unit/redis/redis_server.h"

namespace comms::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::RedisServer;

// Runs coroutines on an io_context thread of its own.
class Loop {
 public:
  Loop() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~Loop() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  template <class T>
  T run(asio::awaitable<T> a) {
    return asio::co_spawn(io_, std::move(a), asio::use_future).get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds within = 5s) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

Reply direct(const RedisServer& server, Command c) {
  Connection conn(server.url(), 500ms);
  EXPECT_EQ(conn.ensure(), "");
  Result r = conn.run({std::move(c)});
  EXPECT_TRUE(r.ok()) << r.error;
  return r.ok() ? r.replies.at(0) : Reply{};
}

// The cache flushes L1 when its invalidation subscriber connects; entries set before that moment are
// dropped, so tests that rely on L1 wait for the flush first.
bool flushed_once(const metrics::Registry& registry) {
  return registry.render().find("comms_cache_l1_flushes_total 1") != std::string::npos;
}

long long subscribers(const RedisServer& server, const std::string& channel) {
  const Reply r = direct(server, {"PUBSUB", "NUMSUB", channel});
  return r.elements.size() == 2 ? r.elements[1].integer : -1;
}

class RedisLive : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
    server_ = std::make_unique<RedisServer>();
  }
  std::unique_ptr<Redis> make_redis(metrics::Registry& registry) {
    RedisOptions o;
    o.url = server_->url();
    o.prefix = "t:";
    o.timeout = 100ms;
    o.connections = 2;
    return std::make_unique<Redis>(o, registry);
  }

  std::unique_ptr<RedisServer> server_;
  Loop loop_;
};

TEST_F(RedisLive, ClientRunsPipelinesAndDegradesFastWhenRedisIsDown) {
  metrics::Registry registry;
  auto redis = make_redis(registry);
  Result r = loop_.run(redis->client().run("test", std::vector<Command>{{"SET", "k", "v"}, {"GET", "k"}}));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.replies.at(1).str, "v");
  EXPECT_TRUE(redis->health().up());

  server_->stop();
  for (int i = 0; i < 20; ++i) {
    const auto start = std::chrono::steady_clock::now();
    r = loop_.run(redis->client().run("test", std::vector<Command>{{"GET", "k"}}));
    EXPECT_FALSE(r.ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  }
  EXPECT_FALSE(redis->health().up());
  EXPECT_FALSE(redis->health().last_error().empty());
  EXPECT_NE(registry.render().find("comms_redis_up 0"), std::string::npos);

  server_->start();
  EXPECT_TRUE(eventually([&] {
    return loop_.run(redis->client().run("test", std::vector<Command>{{"PING"}})).ok();
  }));
  EXPECT_TRUE(redis->health().up());
  EXPECT_NE(registry.render().find("comms_redis_up 1"), std::string::npos);
}

TEST_F(RedisLive, HybridCacheSharesL2AndInvalidatesTheOtherInstancesL1) {
  metrics::Registry ra, rb;
  auto a_link = make_redis(ra);
  auto b_link = make_redis(rb);
  HybridCache a(*a_link, ra, {});
  HybridCache b(*b_link, rb, {});
  a_link->start();
  b_link->start();
  ASSERT_TRUE(eventually([&] { return subscribers(*server_, a.channel()) == 2; }));
  ASSERT_TRUE(eventually([&] { return flushed_once(ra) && flushed_once(rb); }));

  loop_.run(a.set("prefs:1", "one", 60s));
  EXPECT_EQ(direct(*server_, {"GET", "t:prefs:1"}).str, "one");
  EXPECT_EQ(loop_.run(b.get("prefs:1")), "one");  // from L2, now in B's L1
  EXPECT_EQ(b.l1().get("prefs:1"), "one");
  const long long pttl = direct(*server_, {"PTTL", "t:prefs:1"}).integer;
  EXPECT_GT(pttl, 50'000);

  loop_.run(a.remove("prefs:1"));
  EXPECT_TRUE(direct(*server_, {"EXISTS", "t:prefs:1"}).integer == 0);
  EXPECT_TRUE(eventually([&] { return !b.l1().get("prefs:1"); }));

  // Patterns: SCAN MATCH + UNLINK in L2, and the pattern in every L1. Brackets are literal.
  for (const char* k : {"tmpl:a", "tmpl:b", "tmpl:[x]", "prefs:2"}) loop_.run(a.set(k, "v", 60s));
  for (const char* k : {"tmpl:a", "tmpl:b", "tmpl:[x]", "prefs:2"}) EXPECT_EQ(loop_.run(b.get(k)), "v");
  loop_.run(a.remove_by_pattern("tmpl:*"));
  EXPECT_TRUE(eventually([&] { return !b.l1().get("tmpl:a") && !b.l1().get("tmpl:[x]"); }));
  EXPECT_EQ(b.l1().get("prefs:2"), "v");
  EXPECT_EQ(direct(*server_, {"EXISTS", "t:tmpl:a", "t:tmpl:b", "t:tmpl:[x]"}).integer, 0);
  EXPECT_EQ(direct(*server_, {"EXISTS", "t:prefs:2"}).integer, 1);
  EXPECT_NE(rb.render().find("comms_cache_invalidations_received_total 2"), std::string::npos) << rb.render();
  EXPECT_NE(rb.render().find("comms_cache_l2_hits_total 5"), std::string::npos);
  b_link->stop();
  a_link->stop();
}

TEST_F(RedisLive, HybridCacheServesL1WhileRedisIsSlowAndReplaysRemovalsAfterwards) {
  metrics::Registry registry;
  auto link = make_redis(registry);
  HybridCache cache(*link, registry, {});
  link->start();
  ASSERT_TRUE(eventually([&] { return flushed_once(registry); }));
  loop_.run(cache.set("prefs:1", "old", 60s));
  loop_.run(cache.set("prefs:2", "two", 60s));

  server_->pause();
  EXPECT_EQ(loop_.run(cache.get("prefs:2")), "two");  // L1
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(loop_.run(cache.get("prefs:3")), std::nullopt);  // L2 times out: a miss, not an error
  loop_.run(cache.remove("prefs:1"));                          // L2 unreachable: remembered
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_FALSE(cache.l1().get("prefs:1"));
  EXPECT_TRUE(eventually([&] { return !link->health().up(); }));

  server_->resume();
  // Back up: the removal reaches L2, and L1 was flushed when the subscriber came back.
  EXPECT_TRUE(eventually([&] { return direct(*server_, {"EXISTS", "t:prefs:1"}).integer == 0; }));
  // The replayed UNLINK can be visible in Redis a moment before the worker that sent it records the
  // answer and marks the link up.
  EXPECT_TRUE(eventually([&] { return link->health().up(); }));
  EXPECT_EQ(direct(*server_, {"EXISTS", "t:prefs:2"}).integer, 1);
  EXPECT_NE(registry.render().find("comms_cache_l2_errors_total"), std::string::npos);
  link->stop();
}

TEST_F(RedisLive, BucketStoreSharesOneBucketAndFailsOpenToLocalLimits) {
  metrics::Registry ra, rb;
  auto a_link = make_redis(ra);
  auto b_link = make_redis(rb);
  const auto local = [] { return std::make_shared<http::MemoryBucketStore>(1000, std::chrono::seconds(60)); };
  RedisBucketStore a(*a_link, ra, local());
  RedisBucketStore b(*b_link, rb, local());
  const http::RateLimit limit{0.01, 3};
  int allowed = 0;
  for (int i = 0; i < 6; ++i) allowed += loop_.run((i % 2 ? a : b).take("10.0.0.1", limit)).allowed ? 1 : 0;
  EXPECT_EQ(allowed, 3);
  const http::RateDecision refused = loop_.run(a.take("10.0.0.1", limit));
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, 60s);
  EXPECT_TRUE(loop_.run(a.take("10.0.0.2", limit)).allowed);  // another key, another bucket
  const long long pttl = direct(*server_, {"PTTL", "t:rl:10.0.0.1"}).integer;
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 301'000);

  // A Redis that forgot the script: EVALSHA answers NOSCRIPT, EVAL runs it.
  direct(*server_, {"SCRIPT", "FLUSH"});
  EXPECT_TRUE(loop_.run(a.take("10.0.0.3", limit)).allowed);
  EXPECT_EQ(RedisBucketStore::script_sha1(), direct(*server_, {"SCRIPT", "LOAD", RedisBucketStore::script()}).str);

  server_->stop();
  // Fail open to the local bucket (a fresh one here: full), counted.
  EXPECT_TRUE(loop_.run(a.take("10.0.0.1", limit)).allowed);
  EXPECT_NE(ra.render().find("comms_rate_limit_fallbacks_total 1"), std::string::npos);
  a_link->stop();
  b_link->stop();
}

// A fake hub side for one instance: records what it delivers and answers `result`.
struct FakeHub {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> got;
  std::atomic<bool> result{true};
  hub::Backplane::Deliver deliver() {
    return [this](const std::string& group, hub::Frame frame, hub::DeliveredCallback done) {
      {
        std::lock_guard lock(mu);
        got.emplace_back(group, *frame);
      }
      done(result.load());
    };
  }
  std::size_t count() {
    std::lock_guard lock(mu);
    return got.size();
  }
};

bool publish(hub::Backplane& bp, const std::string& group, const std::string& frame) {
  std::promise<bool> p;
  auto f = p.get_future();
  auto once = std::make_shared<std::once_flag>();
  bp.publish(group, std::make_shared<const std::string>(frame),
             [&p, once](bool d) { std::call_once(*once, [&] { p.set_value(d); }); });
  EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
  return f.get();
}

TEST_F(RedisLive, BackplaneCarriesFramesAndTheDeliveredSignalAcrossInstances) {
  metrics::Registry ra, rb;
  auto a_link = make_redis(ra);
  auto b_link = make_redis(rb);
  auto a = std::make_shared<RedisBackplane>(*a_link);
  auto b = std::make_shared<RedisBackplane>(*b_link);
  FakeHub hub_a, hub_b;
  a->start(hub_a.deliver());
  b->start(hub_b.deliver());
  a_link->start();
  b_link->start();

  // Nobody subscribed: A delivers locally (its hub reports false), PUBLISH reaches nobody.
  hub_a.result = false;
  EXPECT_FALSE(publish(*a, "user:1", "f0\x1e"));

  b->subscribe("user:1");
  ASSERT_TRUE(eventually([&] { return subscribers(*server_, "t:hub:user:1") == 1; }));
  EXPECT_TRUE(publish(*a, "user:1", "f1\x1e"));  // B's connection had it written
  ASSERT_EQ(hub_b.count(), 1u);
  EXPECT_EQ(hub_b.got[0], (std::pair<std::string, std::string>{"user:1", "f1\x1e"}));

  hub_b.result = false;  // B has the group but wrote nothing
  a->subscribe("user:1");
  ASSERT_TRUE(eventually([&] { return subscribers(*server_, "t:hub:user:1") == 2; }));
  EXPECT_FALSE(publish(*a, "user:1", "f2\x1e"));  // every instance answered negatively
  hub_a.result = true;
  EXPECT_TRUE(publish(*a, "user:1", "f3\x1e"));  // local delivery suffices
  EXPECT_TRUE(eventually([&] { return hub_b.count() == 3u; }));

  // Redis down: local delivery still works.
  server_->stop();
  EXPECT_TRUE(publish(*a, "user:1", "f4\x1e"));
  hub_a.result = false;
  EXPECT_FALSE(publish(*a, "user:1", "f5\x1e"));
  a->stop();
  b->stop();
  a_link->stop();
  b_link->stop();
}

}  // namespace
}  // namespace comms::redis
