// GET /api/v1/providers: the same per-provider figures as /metrics, as JSON.
#include <boost/json.hpp>

#include "api/handler.h"
#include "api/provider_routes.h"
#include "delivery/resilience/provider_stats.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;

boost::json::object to_json(const delivery::ProviderSnapshot& s) {
  boost::json::object o;
  o["name"] = s.name;
  o["channel"] = domain::to_string(s.channel);
  o["priority"] = s.priority;
  boost::json::object breaker;
  breaker["state"] = delivery::to_string(s.breaker);
  breaker["consecutiveFailures"] = s.consecutive_failures;
  breaker["timesOpened"] = s.times_opened;
  if (s.breaker == delivery::CircuitBreaker::State::open) {
    breaker["retryInMs"] = s.retry_in_ms;
  } else {
    breaker["retryInMs"] = nullptr;
  }
  o["breaker"] = std::move(breaker);
  boost::json::object outcomes;
  for (const auto& [k, v] : s.outcomes) outcomes[k] = static_cast<std::int64_t>(v);
  o["sends"] = std::move(outcomes);
  o["failovers"] = static_cast<std::int64_t>(s.failovers);
  boost::json::object latency;
  latency["count"] = s.latency_count;
  latency["sumSeconds"] = s.latency_sum_seconds;
  latency["avgMs"] =
      s.latency_count ? s.latency_sum_seconds * 1000.0 / static_cast<double>(s.latency_count) : 0.0;
  boost::json::array buckets;
  for (const auto& [le, count] : s.latency_buckets)
    buckets.push_back(boost::json::object{{"le", le}, {"count", count}});
  latency["buckets"] = std::move(buckets);
  o["latency"] = std::move(latency);
  boost::json::object cost;
  for (const auto& [cur, v] : s.cost) cost[cur] = v;
  o["cost"] = std::move(cost);
  boost::json::object alerts;
  for (const auto& [reason, v] : s.alerts) alerts[reason] = static_cast<std::int64_t>(v);
  o["alerts"] = std::move(alerts);
  return o;
}

}  // namespace

void register_provider_routes(http::Router& router,
                              std::shared_ptr<const delivery::ProviderMonitor> monitor) {
  router.add("GET", "/api/v1/providers", http::Access::roles_of({http::Role::admin}),
             guarded([monitor = std::move(monitor)](Request&) -> awaitable<Response> {
               boost::json::array items;
               if (monitor) {
                 for (const auto& s : monitor->snapshot()) items.push_back(to_json(s));
               }
               co_return Response::json(200, boost::json::object{{"providers", std::move(items)}});
             }));
}

}  // namespace comms::api
