#include "delivery/recipient_directory.h"

#include <boost/json.hpp>

#include "store/await.h"

namespace comms::delivery {

namespace json = boost::json;
using boost::asio::awaitable;

std::string RecipientDirectory::encode(const std::optional<domain::Recipient>& r) {
  if (!r) return "null";
  return json::serialize(json::object{{"id", r->id},
                                      {"name", r->name},
                                      {"phone", r->phone},
                                      {"email", r->email},
                                      {"language", r->language},
                                      {"timezone", r->timezone},
                                      {"branchId", r->branch_id},
                                      {"updatedAt", r->updated_at},
                                      {"version", r->version}});
}

std::optional<std::optional<domain::Recipient>> RecipientDirectory::decode(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  if (v.is_null()) return std::optional<domain::Recipient>{};
  const json::object* o = v.if_object();
  if (!o) return std::nullopt;
  domain::Recipient r;
  const auto text_of = [o](std::string_view k, std::string& out) {
    const json::value* f = o->if_contains(k);
    if (!f || !f->is_string()) return false;
    out = std::string(f->get_string());
    return true;
  };
  const auto int_of = [o](std::string_view k, std::int64_t& out) {
    const json::value* f = o->if_contains(k);
    if (!f || !f->is_int64()) return false;
    out = f->get_int64();
    return true;
  };
  if (!text_of("id", r.id) || !text_of("name", r.name) || !text_of("phone", r.phone) ||
      !text_of("email", r.email) || !text_of("language", r.language) || !text_of("timezone", r.timezone) ||
      !text_of("branchId", r.branch_id) || !int_of("updatedAt", r.updated_at) || !int_of("version", r.version))
    return std::nullopt;
  return std::optional<domain::Recipient>{std::move(r)};
}

awaitable<std::optional<std::optional<domain::Recipient>>> RecipientDirectory::cached(const std::string& id) {
  if (auto hit = co_await cache::get_or_miss(cache_, cache_key(id))) co_return decode(*hit);
  co_return std::nullopt;
}

awaitable<void> RecipientDirectory::remember(const std::string& id, const std::optional<domain::Recipient>& r) {
  co_await cache::set_or_skip(cache_, cache_key(id), encode(r), ttl_);
}

awaitable<std::optional<domain::Recipient>> RecipientDirectory::get(std::string id) {
  if (auto hit = co_await cached(id)) co_return *hit;
  std::optional<domain::Recipient> r;
  co_await store::read_async(store_, [&](store::UnitOfWork& uow) { r = uow.recipients().get(id); });
  co_await remember(id, r);
  co_return r;
}

awaitable<std::map<std::string, domain::Recipient, std::less<>>> RecipientDirectory::get_many(
    std::set<std::string> ids) {
  std::map<std::string, domain::Recipient, std::less<>> out;
  std::set<std::string> missing;
  for (const auto& id : ids) {
    if (auto hit = co_await cached(id)) {
      if (*hit) out.emplace(id, std::move(**hit));
    } else {
      missing.insert(id);
    }
  }
  if (missing.empty()) co_return out;
  std::map<std::string, std::optional<domain::Recipient>> read;
  co_await store::read_async(store_, [&](store::UnitOfWork& uow) {
    for (const auto& id : missing) read[id] = uow.recipients().get(id);
  });
  for (auto& [id, r] : read) {
    co_await remember(id, r);
    if (r) out.emplace(id, std::move(*r));
  }
  co_return out;
}

awaitable<void> RecipientDirectory::invalidate(std::string id) {
  co_await cache::remove_or_skip(cache_, cache_key(id));
}

}  // namespace comms::delivery
