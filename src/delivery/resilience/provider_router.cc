#include "delivery/resilience/provider_router.h"

#include <stdexcept>

#include "common/log.h"

namespace comms::delivery {

ProviderRouter::ProviderRouter(domain::Channel channel, std::vector<ProviderRoute> routes,
                               RouterOptions options)
    : channel_(channel), routes_(std::move(routes)), options_(std::move(options)) {
  if (routes_.empty() || routes_.size() > 32) throw std::invalid_argument("a router needs 1 to 32 providers");
  for (const auto& r : routes_) {
    if (!r.provider || !r.breaker || !r.stats) throw std::invalid_argument("a provider route is incomplete");
  }
}

boost::asio::awaitable<SendResult> ProviderRouter::send(const Outgoing& message) {
  std::uint32_t skip = excluded(message.notification_id);
  const std::uint32_t all = routes_.size() == 32 ? ~0u : ((1u << routes_.size()) - 1);
  std::string trail;  // what happened at each provider, for last_error
  auto note = [&trail](const std::string& provider, const std::string& what) {
    trail += (trail.empty() ? "" : "; ") + provider + ": " + what;
  };
  std::optional<SendResult> last;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& route = routes_[i];
    const std::string& name = route.provider->name();
    if (skip & (1u << i)) {
      note(name, "skipped, an earlier attempt may have been accepted");
      continue;
    }
    const auto permit = route.breaker->acquire();
    if (!permit.allowed) {
      route.stats->short_circuited();
      note(name, "circuit open");
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    ProviderResult r = co_await route.provider->send(message);
    route.stats->record(r, std::chrono::steady_clock::now() - start);
    r.result.provider = name;
    if (!r.alert.empty()) {
      log::error("provider_alert", {{"provider", name}, {"reason", r.alert}, {"error", r.result.error}});
    }
    switch (r.fault) {
      case Fault::none:
        route.breaker->on_success(permit);
        r.result.kind = SendResult::Kind::ok;
        co_return r.result;
      case Fault::rejected:
        route.breaker->on_success(permit);
        r.result.kind = SendResult::Kind::permanent;
        co_return r.result;
      case Fault::unavailable:
        route.breaker->on_failure(permit);
        break;
      case Fault::ambiguous:
        route.breaker->on_failure(permit);
        exclude(message.notification_id, i);
        skip |= 1u << i;
        break;
      case Fault::unroutable:
        route.breaker->on_neutral(permit);
        break;
    }
    log::warn("provider_send_failed", {{"id", message.notification_id},
                                       {"channel", domain::to_string(channel_)},
                                       {"provider", name},
                                       {"fault", to_string(r.fault)},
                                       {"error", r.result.error}});
    note(name, r.result.error);
    last = std::move(r.result);
    if (i + 1 < routes_.size()) route.stats->failover();
  }
  if ((skip & all) == all) {
    // Every provider may already hold this message: a re-send could only duplicate it. The ledger
    // entry goes, so that an operator's explicit re-drive starts afresh.
    forget(message.notification_id);
    co_return SendResult::failure(SendResult::Kind::permanent,
                                  last ? last->provider : routes_.back().provider->name(),
                                  "not re-sent, the provider may have accepted it (" + trail + ")");
  }
  SendResult out = last ? std::move(*last) : SendResult::failure(SendResult::Kind::transient, "", "");
  out.kind = SendResult::Kind::transient;
  out.error = trail;
  if (out.provider.empty()) out.provider = routes_.front().provider->name();
  co_return out;
}

std::uint32_t ProviderRouter::excluded(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = ledger_.find(id);
  if (it == ledger_.end()) return 0;
  const auto now = options_.clock ? options_.clock() : std::chrono::steady_clock::now();
  if (it->second.expires <= now) {
    ledger_.erase(it);
    return 0;
  }
  return it->second.routes;
}

void ProviderRouter::exclude(const std::string& id, std::size_t route) {
  std::lock_guard lock(mu_);
  const auto now = options_.clock ? options_.clock() : std::chrono::steady_clock::now();
  while (!order_.empty() && (order_.front().first <= now || ledger_.size() >= options_.ambiguity_capacity)) {
    auto it = ledger_.find(order_.front().second);
    // An entry re-inserted later has a later expiry; only drop the one this queue slot describes.
    if (it != ledger_.end() && it->second.expires <= order_.front().first) ledger_.erase(it);
    order_.pop_front();
  }
  auto& e = ledger_[id];
  e.routes |= 1u << route;
  e.expires = now + options_.ambiguity_ttl;
  order_.emplace_back(e.expires, id);
}

void ProviderRouter::forget(const std::string& id) {
  std::lock_guard lock(mu_);
  ledger_.erase(id);
}

}  // namespace comms::delivery
