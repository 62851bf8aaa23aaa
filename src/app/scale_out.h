// The scale-out seams as serve() uses them: the cache, the hub backplane and the rate-limit
// buckets, backed by Redis when COMMS_REDIS is set (docs/scale-out.md) and embedded otherwise
// (MemoryCache, the in-process backplane, per-process buckets).
//
// Lifecycle: stop() (idempotent; also the destructor) stops the Redis threads, so that no callback
// reaches the cache, the hub or an io_context after them; call it after the io threads have
// joined and before the io_context is destroyed.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "app/config.h"
#include "cache/cache.h"
#include "common/metrics.h"
#include "http/bucket_store.h"
#include "hub/backplane.h"

namespace comms::redis {
class Redis;
}

namespace comms::app {

class ScaleOut {
 public:
  ScaleOut(const Config& config, metrics::Registry& registry);
  ~ScaleOut();
  ScaleOut(const ScaleOut&) = delete;
  ScaleOut& operator=(const ScaleOut&) = delete;

  cache::Cache& cache() { return *cache_; }
  std::shared_ptr<hub::Backplane> backplane() const { return backplane_; }  // nullptr: in-process
  std::shared_ptr<http::BucketStore> buckets() const { return buckets_; }   // nullptr: per process
  // Whether Redis answers, when it is configured; nullopt when it is not.
  std::optional<bool> redis_up() const;
  // Redis's name in logs: its URL without credentials, or "none".
  const std::string& redis_name() const { return redis_name_; }
  void stop();

 private:
  std::unique_ptr<redis::Redis> redis_;
  std::unique_ptr<cache::Cache> cache_;
  std::shared_ptr<hub::Backplane> backplane_;
  std::shared_ptr<http::BucketStore> buckets_;
  std::string redis_name_ = "none";
};

}  // namespace comms::app
