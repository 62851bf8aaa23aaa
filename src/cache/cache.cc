#include "cache/cache.h"

#include "common/log.h"

namespace comms::cache {

using boost::asio::awaitable;

awaitable<std::optional<std::string>> get_or_miss(Cache& cache, std::string key) {
  try {
    co_return co_await cache.get(key);
  } catch (const std::exception& e) {
    log::warn("cache_get_failed", {{"key", key}, {"error", e.what()}});
  }
  co_return std::nullopt;
}

awaitable<void> set_or_skip(Cache& cache, std::string key, std::string value, std::chrono::milliseconds ttl) {
  try {
    co_await cache.set(key, std::move(value), ttl);
  } catch (const std::exception& e) {
    log::warn("cache_set_failed", {{"key", key}, {"error", e.what()}});
  }
}

awaitable<void> remove_or_skip(Cache& cache, std::string key) {
  try {
    co_await cache.remove(key);
  } catch (const std::exception& e) {
    log::warn("cache_remove_failed", {{"key", key}, {"error", e.what()}});
  }
}

}  // namespace comms::cache
