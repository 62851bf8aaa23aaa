#include "app/scale_out.h"

#include "cache/lru_cache.h"
#include "http/options.h"
#include "redis/hybrid_cache.h"
#include "redis/redis.h"
#include "redis/redis_backplane.h"
#include "redis/redis_bucket_store.h"

namespace comms::app {

ScaleOut::ScaleOut(const Config& config, metrics::Registry& registry) {
  const cache::LruOptions l1{.capacity = static_cast<std::size_t>(config.cache_capacity),
                             .default_ttl = config.cache_ttl};
  if (config.redis.empty()) {
    cache_ = std::make_unique<cache::MemoryCache>(l1);
    return;
  }
  redis::RedisOptions o;
  o.url = redis::parse_url(config.redis);  // validated by load_config
  redis_name_ = o.url.redacted();
  o.prefix = config.redis_prefix;
  o.timeout = config.redis_timeout;
  redis_ = std::make_unique<redis::Redis>(std::move(o), registry);
  cache_ = std::make_unique<redis::HybridCache>(*redis_, registry, l1);
  backplane_ = std::make_shared<redis::RedisBackplane>(*redis_);
  if (config.rate_limit_store == "redis") {
    const http::RateLimitOptions defaults;
    buckets_ = std::make_shared<redis::RedisBucketStore>(
        *redis_, registry, std::make_shared<http::MemoryBucketStore>(defaults.max_buckets, defaults.idle_eviction));
  }
  redis_->start();
}

ScaleOut::~ScaleOut() { stop(); }

void ScaleOut::stop() {
  if (redis_) redis_->stop();
}

std::optional<bool> ScaleOut::redis_up() const {
  if (!redis_) return std::nullopt;
  return redis_->health().up();
}


}  // namespace comms::app
