// The two-level cache (the seed's HybridCacheService): L1 is this process's LruCache, L2 is Redis,
// shared by every instance. Implements cache::Cache.
//
//   get     L1; on a miss L2 (GET + PTTL in one round trip), filling L1 for at most L2's remaining
//           time to live.
//   set     L1 and L2 (SET PX).
//   remove, remove_by_pattern
//           L1 and L2 (UNLINK; a pattern walks SCAN MATCH, never KEYS), then PUBLISH on
//           "<prefix>cache-invalidate" so that every other instance drops the key or pattern from
//           its L1. Each instance ignores its own messages.
//
// Redis keys are "<prefix><key>" (COMMS_REDIS_PREFIX, default "comms:").
//
// When Redis is down or slow, every operation degrades to L1 (the caller then reads the
// database), counted in comms_cache_l2_errors_total; none fails. Recovery is automatic:
//   - removals that could not reach L2 are remembered (up to 1,000; beyond that, the whole prefix)
//     and replayed, with their invalidation messages, when Redis answers again;
//   - invalidations published by others while this instance's subscriber was disconnected are
//     lost, so L1 is flushed whenever the subscriber (re)connects. Until then an L1 entry may be
//     stale for up to its L1 time to live.
//
// Thread-safety: as cache::Cache. The Redis client, subscriber and health must outlive it and be
// stopped before it is destroyed.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "cache/cache.h"
#include "cache/lru_cache.h"
#include "common/metrics.h"
#include "redis/redis.h"

namespace comms::redis {

class HybridCache final : public cache::Cache {
 public:
  HybridCache(Redis& redis, metrics::Registry& registry, cache::LruOptions l1_options);

  boost::asio::awaitable<std::optional<std::string>> get(std::string key) override;
  boost::asio::awaitable<void> set(std::string key, std::string value, std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<void> remove(std::string key) override;
  boost::asio::awaitable<void> remove_by_pattern(std::string pattern) override;

  cache::LruCache& l1() { return l1_; }
  std::string channel() const { return redis_.prefix() + "cache-invalidate"; }

 private:
  // An invalidation: a key, or a pattern when `pattern`.
  struct Change {
    bool pattern;
    std::string text;
    auto operator<=>(const Change&) const = default;
  };
  // Removes `change` from L2 and publishes it, on a worker thread.
  Result apply_l2(Connection& conn, const Change& change) const;
  Client::Work l2_work(Change change) const;
  boost::asio::awaitable<void> invalidate(Change change);
  void remember(Change change);
  // Replays the remembered removals now (on recovery), or at most once a second while Redis is up
  // (a removal may fail on one connection while another already answers again).
  void replay();
  void maybe_replay();
  void on_message(std::string_view message);

  Redis& redis_;
  const std::chrono::milliseconds l1_ttl_;
  cache::LruCache l1_;
  metrics::Counter& hits_;
  metrics::Counter& misses_;
  metrics::Counter& errors_;
  metrics::Counter& received_;
  metrics::Counter& flushes_;
  std::atomic<std::uint64_t> generation_{0};  // bumped by every invalidation applied to L1
  std::mutex mu_;
  std::set<Change> unsent_;  // guarded by mu_; removals that did not reach L2
  std::atomic<bool> has_unsent_{false};
  std::atomic<std::chrono::steady_clock::rep> next_replay_{0};
};

}  // namespace comms::redis
