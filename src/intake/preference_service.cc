#include "intake/preference_service.h"

#include "common/clock.h"
#include "common/log.h"
#include "intake/preferences.h"
#include "store/await.h"

namespace comms::intake {

using boost::asio::awaitable;

awaitable<store::RecipientPreferences> PreferenceService::get(std::string recipient_id) {
  const std::string key = cache_key(recipient_id);
  try {
    if (auto hit = co_await cache_.get(key))
      if (auto p = decode(*hit)) co_return *p;
  } catch (const std::exception& e) {
    log::warn("cache_get_failed", {{"key", key}, {"error", e.what()}});
  }
  std::optional<store::RecipientPreferences> stored;
  co_await store::read_async(store_,
                             [&](store::UnitOfWork& uow) { stored = uow.preferences().get(recipient_id); });
  store::RecipientPreferences p = stored.value_or(store::RecipientPreferences{});
  p.recipient_id = recipient_id;
  try {
    co_await cache_.set(key, encode(p), ttl_);
  } catch (const std::exception& e) {
    log::warn("cache_set_failed", {{"key", key}, {"error", e.what()}});
  }
  co_return p;
}

awaitable<PreferenceService::Saved> PreferenceService::put(store::RecipientPreferences p) {
  validate(p);
  p.updated_at = now_ms();
  Saved saved;
  co_await store::write_async(store_, [&](store::UnitOfWork& uow) {
    saved.created = !uow.preferences().get(p.recipient_id).has_value();
    uow.preferences().upsert(p);
  });
  saved.preferences = p;
  // After the commit: a reader that refilled the cache in between gets dropped too.
  const std::string key = cache_key(p.recipient_id);
  try {
    co_await cache_.remove(key);
  } catch (const std::exception& e) {
    log::warn("cache_remove_failed", {{"key", key}, {"error", e.what()}});
  }
  co_return saved;
}

awaitable<Profiles> PreferenceService::profiles(std::set<std::string> ids) {
  Profiles out;
  if (ids.empty()) co_return out;
  auto entries = co_await directory_.get_many(ids);
  for (const auto& id : ids) {
    Profile& p = out[id];
    if (auto it = entries.find(id); it != entries.end()) p.directory = std::move(it->second);
    p.preferences = co_await get(id);
  }
  co_return out;
}

}  // namespace comms::intake
