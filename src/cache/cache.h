// The cache seam (the seed's HybridCacheService): string keys to string values
// with a time to live, and removal by key pattern.
//
// Implementations: MemoryCache (L1 only: an in-process LRU, the embedded
// default) and, later, a hybrid of that L1 with Redis as L2 (issue 7), which
// is why every operation is a coroutine: L1 answers without suspending, L2 may
// go to the network. A cache is an optimisation: callers must work (from the
// database) when it misses, and an implementation whose backing service is
// down degrades to misses instead of failing.
//
// Keys are namespaced by their users, "<area>:<id>" (e.g. "prefs:cust-1"), so
// that remove_by_pattern("prefs:*") drops one area.
//
// Thread-safety: every implementation is safe to use from many coroutines and
// threads at once.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace comms::cache {

class Cache {
 public:
  virtual ~Cache() = default;
  // The value, or nullopt when absent or expired.
  virtual boost::asio::awaitable<std::optional<std::string>> get(std::string key) = 0;
  // Stores `value` for `ttl` (a ttl <= 0 means the cache's default).
  virtual boost::asio::awaitable<void> set(std::string key, std::string value,
                                           std::chrono::milliseconds ttl) = 0;
  virtual boost::asio::awaitable<void> remove(std::string key) = 0;
  // Removes every key matching the glob `pattern` ('*' any run, '?' one byte,
  // '\' escapes the next byte; the Redis SCAN MATCH subset).
  virtual boost::asio::awaitable<void> remove_by_pattern(std::string pattern) = 0;
};

// For callers whose work goes on from the database when the cache cannot help: an exception from
// the cache is logged (cache_get_failed, cache_set_failed, cache_remove_failed, with the key) and
// becomes a miss, a skipped set, a skipped removal.
boost::asio::awaitable<std::optional<std::string>> get_or_miss(Cache& cache, std::string key);
boost::asio::awaitable<void> set_or_skip(Cache& cache, std::string key, std::string value,
                                         std::chrono::milliseconds ttl);
boost::asio::awaitable<void> remove_or_skip(Cache& cache, std::string key);

}  // namespace comms::cache
