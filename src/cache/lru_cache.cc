#include "cache/lru_cache.h"

#include <stdexcept>

#include "cache/glob.h"

namespace comms::cache {

LruCache::LruCache(LruOptions options, Clock clock)
    : options_(options),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {
  if (options_.capacity == 0) throw std::invalid_argument("cache capacity must be at least 1");
}

std::optional<std::string> LruCache::get(const std::string& key) {
  const auto now = clock_();
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  if (it->second->expires_at <= now) {
    order_.erase(it->second);
    index_.erase(it);
    ++stats_.expirations;
    ++stats_.misses;
    return std::nullopt;
  }
  order_.splice(order_.begin(), order_, it->second);
  ++stats_.hits;
  return it->second->value;
}

void LruCache::set(const std::string& key, std::string value, std::chrono::milliseconds ttl) {
  if (ttl <= std::chrono::milliseconds::zero()) ttl = options_.default_ttl;
  const auto expires_at = clock_() + ttl;
  std::lock_guard lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    it->second->value = std::move(value);
    it->second->expires_at = expires_at;
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.push_front(Entry{key, std::move(value), expires_at});
  index_.emplace(key, order_.begin());
  while (order_.size() > options_.capacity) {
    index_.erase(order_.back().key);
    order_.pop_back();
    ++stats_.evictions;
  }
}

bool LruCache::remove(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  order_.erase(it->second);
  index_.erase(it);
  return true;
}

std::size_t LruCache::remove_by_pattern(std::string_view pattern) {
  std::lock_guard lock(mu_);
  std::size_t removed = 0;
  for (auto it = order_.begin(); it != order_.end();) {
    if (glob_match(pattern, it->key)) {
      index_.erase(it->key);
      it = order_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

std::size_t LruCache::size() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

CacheStats LruCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

boost::asio::awaitable<std::optional<std::string>> MemoryCache::get(std::string key) {
  co_return l1_.get(key);
}

boost::asio::awaitable<void> MemoryCache::set(std::string key, std::string value,
                                              std::chrono::milliseconds ttl) {
  l1_.set(key, std::move(value), ttl);
  co_return;
}

boost::asio::awaitable<void> MemoryCache::remove(std::string key) {
  l1_.remove(key);
  co_return;
}

boost::asio::awaitable<void> MemoryCache::remove_by_pattern(std::string pattern) {
  l1_.remove_by_pattern(pattern);
  co_return;
}

}  // namespace comms::cache
