// L1: a bounded in-process LRU map with a time to live per entry, and
// MemoryCache, the Cache over it alone (the embedded default).
//
// LruCache is synchronous and cheap (one mutex, O(1) get/set/remove; O(n)
// remove_by_pattern), so a two-level cache can consult it before going to L2.
// Expired entries are dropped when touched or evicted; the least recently used
// entry goes when the capacity is reached.
//
// Thread-safety: every method may be called from any thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "cache/cache.h"

namespace comms::cache {

struct LruOptions {
  std::size_t capacity = 10'000;  // entries
  std::chrono::milliseconds default_ttl{300'000};
};

struct CacheStats {
  std::int64_t hits = 0;
  std::int64_t misses = 0;
  std::int64_t evictions = 0;    // dropped for capacity
  std::int64_t expirations = 0;  // dropped because their ttl passed
};

class LruCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  // `clock` is for tests; the default is steady_clock::now.
  explicit LruCache(LruOptions options = {}, Clock clock = {});

  std::optional<std::string> get(const std::string& key);
  // A ttl <= 0 means options.default_ttl.
  void set(const std::string& key, std::string value, std::chrono::milliseconds ttl = {});
  bool remove(const std::string& key);
  // Returns how many entries were removed. See glob.h for the syntax.
  std::size_t remove_by_pattern(std::string_view pattern);
  std::size_t size() const;
  CacheStats stats() const;

 private:
  struct Entry {
    std::string key;
    std::string value;
    std::chrono::steady_clock::time_point expires_at;
  };
  using List = std::list<Entry>;

  const LruOptions options_;
  const Clock clock_;
  mutable std::mutex mu_;
  List order_;                                             // guarded by mu_; most recent first
  std::unordered_map<std::string, List::iterator> index_;  // guarded by mu_
  CacheStats stats_;                                       // guarded by mu_
};

// Cache over an LruCache only. Never suspends.
class MemoryCache final : public Cache {
 public:
  explicit MemoryCache(LruOptions options = {}, LruCache::Clock clock = {})
      : l1_(options, std::move(clock)) {}
  boost::asio::awaitable<std::optional<std::string>> get(std::string key) override;
  boost::asio::awaitable<void> set(std::string key, std::string value,
                                   std::chrono::milliseconds ttl) override;
  boost::asio::awaitable<void> remove(std::string key) override;
  boost::asio::awaitable<void> remove_by_pattern(std::string pattern) override;
  LruCache& l1() { return l1_; }

 private:
  LruCache l1_;
};

}  // namespace comms::cache
