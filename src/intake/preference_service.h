// Reading and changing recipient preferences, through the cache.
//
// Reads go cache-first ("prefs:<recipientId>", COMMS_CACHE_TTL), then to the
// store; "no preferences stored" is cached too (as the defaults, version 0).
// A change is written to the store and then drops the cached entry, so the
// next read sees it (on several instances, through the L2 cache's pub/sub).
//
// Thread-safety: safe to use from many coroutines; the store and the cache
// must outlive it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "cache/cache.h"
#include "delivery/recipient_directory.h"
#include "store/store.h"

namespace comms::intake {

// What intake knows about one recipient before planning.
struct Profile {
  std::optional<domain::Recipient> directory;
  store::RecipientPreferences preferences;  // defaults (version 0) when none are stored
};
using Profiles = std::map<std::string, Profile, std::less<>>;

class PreferenceService {
 public:
  PreferenceService(store::Store& store, cache::Cache& cache, delivery::RecipientDirectory& directory,
                    std::chrono::milliseconds ttl)
      : store_(store), cache_(cache), directory_(directory), ttl_(ttl) {}

  // The stored preferences, or the defaults (nothing opted out, no quiet
  // hours, version 0). Store errors propagate; cache trouble is a miss.
  boost::asio::awaitable<store::RecipientPreferences> get(std::string recipient_id);

  struct Saved {
    store::RecipientPreferences preferences;  // as stored, with its new version
    bool created = false;
  };
  // Validates (commands::Rejected naming the field), stores with the
  // repository's version rule (store::ConflictError on a stale version), and
  // invalidates the cache.
  boost::asio::awaitable<Saved> put(store::RecipientPreferences p);

  // Directory entries and preferences of `ids`, both through the cache.
  boost::asio::awaitable<Profiles> profiles(std::set<std::string> ids);

  static std::string cache_key(const std::string& recipient_id) { return "prefs:" + recipient_id; }
  delivery::RecipientDirectory& directory() { return directory_; }

 private:
  store::Store& store_;
  cache::Cache& cache_;
  delivery::RecipientDirectory& directory_;
  std::chrono::milliseconds ttl_;
};

}  // namespace comms::intake
