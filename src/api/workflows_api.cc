// GET /api/v1/workflows/{correlationId}: a saga instance's state and history.
#include <boost/json.hpp>

#include "api/handler.h"
#include "api/intake_routes.h"
#include "common/clock.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;
using http::Role;

boost::json::value json_or_text(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return ec ? boost::json::value(text) : v;
}

boost::json::value time_or_null(Millis t) {
  return t ? boost::json::value(format_iso8601(t)) : boost::json::value(nullptr);
}

awaitable<Response> get_workflow(Context& ctx, Request& req) {
  const std::string id(req.param("correlationId"));
  std::optional<store::WorkflowInstance> w;
  std::vector<store::WorkflowHistoryEntry> history;
  co_await ctx.read([&](store::UnitOfWork& uow) {
    w = uow.workflows().get(id);
    if (w) history = uow.workflows().history(id);
  });
  if (!w) throw not_found("workflow '" + id + "' does not exist");
  boost::json::object o;
  o["correlationId"] = w->correlation_id;
  o["workflow"] = w->workflow;
  o["currentState"] = w->current_state;
  o["eventId"] = w->event_id;
  o["eventType"] = w->event_type;
  o["flags"] = json_or_text(w->flags);
  o["steps"] = json_or_text(w->steps);
  o["createdAt"] = time_or_null(w->created_at);
  o["updatedAt"] = time_or_null(w->updated_at);
  o["completedAt"] = time_or_null(w->completed_at);
  o["nextTimeoutAt"] = time_or_null(w->wake_at);
  o["version"] = w->version;
  boost::json::array h;
  for (const auto& e : history) {
    boost::json::object x;
    x["seq"] = e.seq;
    x["at"] = format_iso8601(e.at);
    x["fromState"] = e.from_state.empty() ? boost::json::value(nullptr) : boost::json::value(e.from_state);
    x["toState"] = e.to_state;
    x["cause"] = e.cause;
    x["detail"] = json_or_text(e.detail);
    h.push_back(std::move(x));
  }
  o["history"] = std::move(h);
  co_return Response::json(200, o);
}

}  // namespace

void register_workflow_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/api/v1/workflows/{correlationId}",
             http::Access::roles_of({Role::staff, Role::service, Role::admin}),
             guarded([&ctx](Request& r) { return get_workflow(ctx, r); }));
}

}  // namespace comms::api
