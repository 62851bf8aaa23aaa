// The recipient directory read through the cache (the seed's HybridCacheService caches templates,
// preferences and recipients).
//
// Reads go cache-first ("rcpt:<id>", COMMS_CACHE_TTL), then to the store; an id with no entry is
// cached as absent too, since most events carry their own phone and e-mail and name recipients the
// directory does not know. Every writer of the directory calls invalidate() after its unit of work
// has committed, so the next read (on any instance, through the L2 cache's pub/sub) sees the change.
// Cache trouble is a miss, never an error; store errors propagate.
//
// The cached value holds contact details: it lives in process memory and, with COMMS_REDIS, in
// Redis under the configured prefix, and it is never logged.
//
// Thread-safety: safe to use from many coroutines; the store and the cache must outlive it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "cache/cache.h"
#include "domain/notification.h"
#include "store/store.h"

namespace comms::delivery {

class RecipientDirectory {
 public:
  RecipientDirectory(store::Store& store, cache::Cache& cache, std::chrono::milliseconds ttl)
      : store_(store), cache_(cache), ttl_(ttl) {}

  boost::asio::awaitable<std::optional<domain::Recipient>> get(std::string id);
  // The entries of `ids` that exist; the ones the cache lacks are read in one unit of work.
  boost::asio::awaitable<std::map<std::string, domain::Recipient, std::less<>>> get_many(std::set<std::string> ids);
  // Drops the cached entry. Call after the unit of work that changed `id` has committed.
  boost::asio::awaitable<void> invalidate(std::string id);

  static std::string cache_key(std::string_view id) { return "rcpt:" + std::string(id); }
  // Cache codec: JSON text, "null" for an absent entry. decode: nullopt for text it cannot read,
  // else the entry (itself nullopt when absent).
  static std::string encode(const std::optional<domain::Recipient>& r);
  static std::optional<std::optional<domain::Recipient>> decode(std::string_view text);

 private:
  boost::asio::awaitable<std::optional<std::optional<domain::Recipient>>> cached(const std::string& id);
  boost::asio::awaitable<void> remember(const std::string& id, const std::optional<domain::Recipient>& r);

  store::Store& store_;
  cache::Cache& cache_;
  std::chrono::milliseconds ttl_;
};

}  // namespace comms::delivery
