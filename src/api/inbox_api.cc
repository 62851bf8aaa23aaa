// The in-app inbox over HTTP, and the SignalR negotiate endpoint that opens the real-time side of it.
#include <boost/json.hpp>
#include <charconv>

#include "api/handler.h"
#include "api/json_input.h"
#include "api/hub_routes.h"
#include "common/clock.h"
#include "hub/hub.h"
#include "hub/inapp_view.h"
#include "hub/inbox.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;
using http::Role;

awaitable<Response> negotiate(hub::Hub& hub, Request& req) {
  // Clients send negotiateVersion=1; without it they speak version 0 (no connectionToken).
  const int version = int_query(req, "negotiateVersion", 0, 0, 1'000'000);
  auto body = hub.negotiate(req.principal, version);
  if (!body)
    throw ApiError(503, "hub_unavailable", "the hub is shutting down or too many connections are pending");
  co_return Response::json(200, *body);
}

awaitable<Response> list_inbox(Context& ctx, Request& req) {
  for (const auto& [k, v] : req.query) {
    if (k != "page" && k != "pageSize" && k != "unread")
      throw bad_request("unknown query parameter '" + k + "'");
  }
  store::InboxQuery q;
  q.recipient_id = req.principal.sub;
  q.page = int_query(req, "page", 1, 1, 1'000'000);
  q.page_size = int_query(req, "pageSize", 20, 1, 100);
  if (const auto u = req.query_param("unread")) {
    if (*u != "true" && *u != "false") throw bad_request("query parameter 'unread' must be true or false");
    q.unread_only = *u == "true";
  }
  store::InboxPage page;
  co_await ctx.read([&](store::UnitOfWork& uow) { page = uow.notifications().inbox(q); });
  boost::json::array items;
  items.reserve(page.items.size());
  for (const auto& n : page.items) items.push_back(hub::inapp_view(n));
  boost::json::object body;
  body["items"] = std::move(items);
  body["page"] = q.page;
  body["pageSize"] = q.page_size;
  body["totalCount"] = page.total;
  body["totalPages"] = (page.total + q.page_size - 1) / q.page_size;
  body["unreadCount"] = page.unread;
  co_return Response::json(200, body);
}

awaitable<Response> mark_read(Context& ctx, Request& req) {
  const std::string id(req.param("id"));
  const std::string& user = req.principal.sub;
  hub::MarkRead result = hub::MarkRead::not_found;
  std::optional<domain::Notification> after;
  co_await ctx.write([&](store::UnitOfWork& uow) {
    result = hub::mark_read(uow, user, id, now_ms());
    if (result == hub::MarkRead::marked || result == hub::MarkRead::already_read)
      after = uow.notifications().get(id);
  });
  if (result == hub::MarkRead::not_found) throw not_found("in-app notification '" + id + "' does not exist");
  if (result == hub::MarkRead::not_owner) throw forbidden("you may only mark your own notifications read");
  co_return Response::json(200, hub::inapp_view(*after));
}

}  // namespace

void register_hub_routes(http::Router& router, hub::Hub& hub) {
  router.add("POST", hub.path() + "/negotiate",
             http::Access::roles_of({Role::customer, Role::staff, Role::service}),
             guarded([&hub](Request& r) { return negotiate(hub, r); }));
}

void register_inbox_routes(http::Router& router, Context& ctx) {
  const auto anyone_signed_in = http::Access::roles_of({Role::customer, Role::staff, Role::service});
  router.add("GET", "/api/v1/inbox", anyone_signed_in,
             guarded([&ctx](Request& r) { return list_inbox(ctx, r); }));
  router.add("POST", "/api/v1/inbox/{id}/read", anyone_signed_in,
             guarded([&ctx](Request& r) { return mark_read(ctx, r); }));
}

}  // namespace comms::api
