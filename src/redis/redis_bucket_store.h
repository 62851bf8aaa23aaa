// http::BucketStore in Redis, so that rate limits hold across instances (COMMS_RATE_LIMIT_STORE=redis).
//
// Each bucket is a hash at "<prefix>rl:<key>" ({tokens, ms}) updated atomically by one Lua script
// (EVALSHA, falling back to EVAL when Redis answers NOSCRIPT), timed by Redis's clock so that the
// instances' clocks need not agree, and expiring (PEXPIRE) once it would have refilled.
//
// Fails open to local limits: when Redis is unreachable or slow, take() answers from `fallback`,
// a per-process MemoryBucketStore, and counts comms_rate_limit_fallbacks_total.
//
// Thread-safety: as http::BucketStore. `redis` must outlive it.
#pragma once
#include <memory>
#include <string>

#include "common/metrics.h"
#include "http/bucket_store.h"
#include "redis/redis.h"

namespace comms::redis {

class RedisBucketStore final : public http::BucketStore {
 public:
  RedisBucketStore(Redis& redis, metrics::Registry& registry, std::shared_ptr<http::BucketStore> fallback);

  boost::asio::awaitable<http::RateDecision> take(std::string_view key, http::RateLimit limit) override;

  // The script and its SHA-1 (what EVALSHA names).
  static const std::string& script();
  static const std::string& script_sha1();

 private:
  Redis& redis_;
  std::shared_ptr<http::BucketStore> fallback_;
  metrics::Counter& fallbacks_;
};

}  // namespace comms::redis
