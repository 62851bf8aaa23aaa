#include <algorithm>
#include <cmath>

#include "http/bucket_store.h"

namespace comms::http {

MemoryBucketStore::MemoryBucketStore(std::size_t max_buckets, std::chrono::seconds idle_eviction)
    : per_shard_(std::max<std::size_t>(1, max_buckets / kShards)), idle_eviction_(idle_eviction) {}

boost::asio::awaitable<RateDecision> MemoryBucketStore::take(std::string_view key, RateLimit limit) {
  co_return take_at(key, limit, Clock::now());
}

RateDecision MemoryBucketStore::take_at(std::string_view key, RateLimit limit, Clock::time_point now) {
  Shard& shard = shards_[StringHash{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= per_shard_) make_room(shard, limit, now);
    it = shard.buckets.emplace(std::string(key), Bucket{limit.burst, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(limit.burst, b.tokens + std::max(0.0, elapsed) * limit.rate_per_second);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {true, {}};
  }
  const double wait_s = limit.rate_per_second > 0 ? (1.0 - b.tokens) / limit.rate_per_second : 3600.0;
  return {false, std::chrono::milliseconds(static_cast<long long>(std::ceil(wait_s * 1000)))};
}

void MemoryBucketStore::make_room(Shard& shard, RateLimit limit, Clock::time_point now) {
  std::erase_if(shard.buckets, [&](const auto& kv) {
    const Bucket& b = kv.second;
    const double refilled =
        b.tokens + std::chrono::duration<double>(now - b.last).count() * limit.rate_per_second;
    return refilled >= limit.burst || now - b.last >= idle_eviction_;
  });
  if (shard.buckets.size() >= per_shard_) shard.buckets.erase(shard.buckets.begin());
}

std::size_t MemoryBucketStore::size() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace comms::http
