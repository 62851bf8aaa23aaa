// Token buckets for the rate-limit middleware, behind an interface so that a shared store (Redis)
// can keep buckets across instances; MemoryBucketStore is the embedded default.
#pragma once
#include <array>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/text.h"

namespace comms::http {

struct RateLimit {
  double rate_per_second;  // refill rate
  double burst;            // capacity; a new bucket starts full
};

struct RateDecision {
  bool allowed = true;
  std::chrono::milliseconds retry_after{0};  // when refused: until one token is back
};

// Implementations are thread-safe; `key` need only live until take() completes.
class BucketStore {
 public:
  virtual ~BucketStore() = default;
  // Takes one token from bucket `key`, if it has one.
  virtual boost::asio::awaitable<RateDecision> take(std::string_view key, RateLimit limit) = 0;
};

// Buckets in 16 mutex-sharded maps. Memory is bounded: when a shard is at max_buckets / 16, it drops
// buckets that have refilled (they equal a new bucket) or sat idle for idle_eviction, and if none
// did, an arbitrary one (which only makes the limit more lenient for that key).
class MemoryBucketStore final : public BucketStore {
 public:
  using Clock = std::chrono::steady_clock;
  MemoryBucketStore(std::size_t max_buckets, std::chrono::seconds idle_eviction);

  boost::asio::awaitable<RateDecision> take(std::string_view key, RateLimit limit) override;
  // The synchronous core of take(), with the time given (for tests).
  RateDecision take_at(std::string_view key, RateLimit limit, Clock::time_point now);
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> buckets;  // guarded by mu
  };
  static constexpr std::size_t kShards = 16;
  void make_room(Shard& shard, RateLimit limit, Clock::time_point now);  // REQUIRES: shard.mu held

  std::array<Shard, kShards> shards_;
  const std::size_t per_shard_;
  const Clock::duration idle_eviction_;
};

}  // namespace comms::http
