// Health, metrics and the dev inbox.
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <mutex>

#include "api/handler.h"
#include "api/json_input.h"
#include "api/routes.h"
#include "api/views.h"
#include "common/clock.h"
#include "common/metrics.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;
using http::Role;

awaitable<Response> ready(Context& ctx, Request& req) {
  bool ok = true;
  std::string error;
  try {
    co_await ctx.read([&](store::UnitOfWork& uow) { uow.notifications().next_due_at(); });
  } catch (const std::exception& e) {
    ok = false;
    error = e.what();
  }
  boost::json::object body;
  body["status"] = ok ? "ready" : "unavailable";
  body["database"] = ok ? "ok" : "unreachable";
  for (const auto& [name, up] : ctx.optional_services) {
    const bool is_up = up();
    body[name] = is_up ? "ok" : "unreachable";
    if (ok && !is_up) body["status"] = "degraded";
  }
  co_return Response::json(ok ? 200 : 503, body);
}

awaitable<Response> dev_inbox(Context& ctx, Request& req) {
  if (!ctx.dev_inbox_enabled) throw not_found("the dev inbox is off (real providers are configured)");
  const int page = int_query(req, "page", 1, 1, 1'000'000);
  const int size = int_query(req, "pageSize", 50, 1, 500);
  store::Page<store::DevMessage> msgs;
  co_await ctx.read([&](store::UnitOfWork& uow) { msgs = uow.dev_inbox().list(page, size); });
  boost::json::array items;
  for (const auto& m : msgs.items) items.push_back(to_json(m));
  boost::json::object body;
  body["items"] = std::move(items);
  body["page"] = page;
  body["pageSize"] = size;
  body["totalCount"] = msgs.total;
  co_return Response::json(200, body);
}

}  // namespace

// Counting notifications by channel and status scans the table, and /metrics may be public: so the
// counts are read on a reader thread at most once per kStoreGaugesMaxAge, however often it is scraped
// (Prometheus scrapes every 15 s or so). A scrape meanwhile, or while another scrape is reading,
// shows the last figures.
struct Context::StoreGauges {
  std::mutex mu;
  Millis read_at = 0;      // guarded by mu; 0: never read
  bool reading = false;    // guarded by mu
  std::map<std::pair<domain::Channel, domain::Status>, std::int64_t> counts;  // guarded by mu
  std::int64_t due = 0;    // guarded by mu
};

namespace {

constexpr Millis kStoreGaugesMaxAge = 1000;

awaitable<Response> metrics_page(Context& ctx, Request&) {
  Context::StoreGauges& g = *ctx.store_gauges;
  const auto now = now_ms();
  bool refresh = false;
  {
    std::lock_guard lock(g.mu);
    // The first scrapes all read: there are no figures to show yet.
    refresh = g.read_at == 0 || (!g.reading && now - g.read_at >= kStoreGaugesMaxAge);
    if (refresh) g.reading = true;
  }
  if (refresh) {
    std::map<std::pair<domain::Channel, domain::Status>, std::int64_t> counts;
    std::int64_t due = 0;
    try {
      co_await ctx.read([&](store::UnitOfWork& uow) {
        counts = uow.notifications().count_by_channel_status();
        due = uow.notifications().count_due(now);
      });
    } catch (...) {
      std::lock_guard lock(g.mu);
      g.reading = false;
      throw;
    }
    std::lock_guard lock(g.mu);
    g.reading = false;
    g.read_at = now;
    g.counts = std::move(counts);
    g.due = due;
  }
  std::map<std::pair<domain::Channel, domain::Status>, std::int64_t> counts;
  std::int64_t due = 0;
  {
    std::lock_guard lock(g.mu);
    counts = g.counts;
    due = g.due;
  }
  auto& by_status = ctx.metrics->gauge("comms_notifications", "Notifications stored, by channel and status",
                                       {"channel", "status"});
  for (auto ch : {domain::Channel::sms, domain::Channel::email, domain::Channel::inapp}) {
    for (auto st : {domain::Status::pending, domain::Status::sending, domain::Status::sent, domain::Status::delivered,
                    domain::Status::failed, domain::Status::cancelled}) {
      auto it = counts.find({ch, st});
      by_status.labels({domain::to_string(ch), domain::to_string(st)})
          .set(it == counts.end() ? 0 : static_cast<double>(it->second));
    }
  }
  ctx.metrics->gauge("comms_dispatcher_queue_depth", "Pending notifications that are due now").labels({}).set(
      static_cast<double>(due));
  Response res;
  res.body = ctx.metrics->render();
  res.set_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  co_return res;
}

}  // namespace

void register_ops_routes(http::Router& router, Context& ctx) {
  using http::Access;
  if (!ctx.store_gauges) ctx.store_gauges = std::make_shared<Context::StoreGauges>();
  // Liveness and readiness are public: orchestrators probe them without credentials,
  // and they reveal nothing but up/down.
  router.add("GET", "/health/live", Access::anyone(), [](Request&) -> awaitable<Response> {
    co_return Response::json(200, boost::json::object{{"status", "live"}});
  });
  router.add("GET", "/health/ready", Access::anyone(), guarded([&ctx](Request& r) { return ready(ctx, r); }));
  // Public only when configured so (scrapers on a private network); otherwise service or admin.
  router.add("GET", "/metrics",
             ctx.metrics_public ? Access::anyone() : Access::roles_of({Role::service, Role::admin}),
             guarded([&ctx](Request& r) { return metrics_page(ctx, r); }));
  router.add("GET", "/api/v1/dev-inbox", Access::roles_of({Role::admin}),
             guarded([&ctx](Request& r) { return dev_inbox(ctx, r); }));
}

}  // namespace comms::api
