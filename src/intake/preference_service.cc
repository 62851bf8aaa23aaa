#include "intake/preference_service.h"

#include "common/clock.h"
#include "intake/preferences.h"
#include "store/await.h"

namespace comms::intake {

using boost::asio::awaitable;

awaitable<store::RecipientPreferences> PreferenceService::get(std::string recipient_id) {
  const std::string key = cache_key(recipient_id);
  if (auto hit = co_await cache::get_or_miss(cache_, key))
    if (auto p = decode(*hit)) co_return *p;
  std::optional<store::RecipientPreferences> stored;
  co_await store::read_async(store_,
                             [&](store::UnitOfWork& uow) { stored = uow.preferences().get(recipient_id); });
  store::RecipientPreferences p = stored.value_or(store::RecipientPreferences{});
  p.recipient_id = recipient_id;
  co_await cache::set_or_skip(cache_, key, encode(p), ttl_);
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
  co_await cache::remove_or_skip(cache_, cache_key(p.recipient_id));
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
