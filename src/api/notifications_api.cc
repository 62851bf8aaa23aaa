// POST/GET /api/v1/notifications: the send command and the history query.
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <charconv>

#include "api/handler.h"
#include "api/json_input.h"
#include "api/routes.h"
#include "api/views.h"
#include "commands/rejected.h"
#include "commands/send_notification.h"
#include "common/clock.h"
#include "domain/notification.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;
using http::Role;

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

commands::SendNotification parse_send(const Request& req) {
  const auto o = parse_object(req.body, {"recipientId", "channel", "templateCategory", "templateName", "subject",
                                         "content", "personalization", "to", "eventId", "correlationId",
                                         "locale", "priority", "critical"});
  commands::SendNotification cmd;
  cmd.recipient_id = required_string(o, "recipientId", 128);
  const auto channel = required_string(o, "channel", 16);
  const auto parsed = domain::parse_channel(channel);
  if (!parsed) throw bad_request("field 'channel' must be one of sms, email, inapp; got '" + channel + "'");
  cmd.channel = *parsed;
  cmd.template_category = optional_string(o, "templateCategory", 64).value_or("");
  cmd.template_name = optional_string(o, "templateName", 64).value_or("");
  cmd.subject = optional_string(o, "subject", 998).value_or("");
  cmd.content = optional_string(o, "content", 64 * 1024).value_or("");
  if (const auto* p = optional_object(o, "personalization")) cmd.personalization = boost::json::serialize(*p);
  cmd.to = optional_string(o, "to", 254).value_or("");
  cmd.event_id = optional_string(o, "eventId", 128).value_or("");
  cmd.correlation_id = optional_string(o, "correlationId", 128).value_or("");
  cmd.locale = optional_string(o, "locale", 16).value_or("");
  cmd.priority = static_cast<int>(optional_int(o, "priority", 0, 9).value_or(0));
  cmd.critical = optional_bool(o, "critical").value_or(false);
  commands::validate(cmd);
  if (auto key = req.header("Idempotency-Key")) {
    if (key->empty() || key->size() > 128) throw bad_request("header 'Idempotency-Key' must be 1 to 128 characters");
    cmd.idempotency_key = std::string(*key);
    cmd.principal = req.principal.sub;
    cmd.request_hash = sha256_hex(req.body);
  }
  return cmd;
}

awaitable<Response> post_notification(Context& ctx, Request& req) {
  auto cmd = parse_send(req);
  commands::SendAccepted accepted;
  const auto now = now_ms();
  co_await ctx.write([&](store::UnitOfWork& uow) { accepted = commands::send_notification(uow, cmd, now); });
  if (!accepted.replayed && ctx.wake_dispatcher) ctx.wake_dispatcher();
  boost::json::object body;
  body["notificationId"] = accepted.notification.id;
  body["status"] = domain::to_string(accepted.notification.status);
  auto res = Response::json(202, body);
  res.set_header("Location", "/api/v1/notifications/" + accepted.notification.id);
  if (accepted.replayed) res.set_header("Idempotent-Replayed", "true");
  co_return res;
}

void check_owner(const Request& req, const std::string& recipient_id) {
  if (!sees_everything(req.principal) && req.principal.sub != recipient_id)
    throw forbidden("you may only read your own notifications");
}

awaitable<Response> get_notification(Context& ctx, Request& req) {
  const std::string id(req.param("id"));
  std::optional<domain::Notification> n;
  co_await ctx.read([&](store::UnitOfWork& uow) { n = uow.notifications().get(id); });
  if (!n) throw not_found("notification '" + id + "' does not exist");
  check_owner(req, n->recipient_id);
  co_return Response::json(200, to_json(*n));
}

Millis time_param(const Request& req, std::string_view name) {
  auto v = req.query_param(name);
  auto t = parse_iso8601(*v);
  if (!t) throw bad_request("query parameter '" + std::string(name) + "' must be an ISO-8601 date or time");
  return *t;
}

awaitable<Response> list_notifications(Context& ctx, Request& req) {
  for (const auto& [k, v] : req.query) {
    if (k != "recipientId" && k != "channel" && k != "status" && k != "from" && k != "to" && k != "page" &&
        k != "pageSize")
      throw bad_request("unknown query parameter '" + k + "'");
  }
  store::NotificationQuery q;
  if (auto r = req.query_param("recipientId")) q.recipient_id = std::string(*r);
  if (!sees_everything(req.principal)) {
    if (q.recipient_id && *q.recipient_id != req.principal.sub)
      throw forbidden("you may only read your own notifications");
    q.recipient_id = req.principal.sub;
  }
  if (auto c = req.query_param("channel")) {
    q.channel = domain::parse_channel(*c);
    if (!q.channel) throw bad_request("query parameter 'channel' must be one of sms, email, inapp");
  }
  if (auto s = req.query_param("status")) {
    q.status = domain::parse_status(*s);
    if (!q.status) throw bad_request("query parameter 'status' is not a notification status");
  }
  if (req.query_param("from")) q.from = time_param(req, "from");
  if (req.query_param("to")) q.to = time_param(req, "to");
  q.page = int_query(req, "page", 1, 1, 1'000'000);
  q.page_size = int_query(req, "pageSize", 20, 1, 100);
  store::Page<domain::Notification> page;
  co_await ctx.read([&](store::UnitOfWork& uow) { page = uow.notifications().query(q); });
  boost::json::array items;
  for (const auto& n : page.items) items.push_back(to_json(n));
  boost::json::object body;
  body["items"] = std::move(items);
  body["page"] = q.page;
  body["pageSize"] = q.page_size;
  body["totalCount"] = page.total;
  body["totalPages"] = (page.total + q.page_size - 1) / q.page_size;
  co_return Response::json(200, body);
}

// Re-drives a Failed (dead-lettered) notification, or cancels a Pending one.
awaitable<Response> change_status(Context& ctx, Request& req, domain::Status from, domain::Status to) {
  const std::string id(req.param("id"));
  std::optional<domain::Notification> n;
  co_await ctx.write([&](store::UnitOfWork& uow) {
    n = uow.notifications().get(id);
    if (!n) return;
    if (n->status != from)
      throw commands::Rejected(commands::Rejected::Kind::conflict, "invalid_state",
                               "notification is " + std::string(domain::to_string(n->status)) + ", not " +
                                   std::string(domain::to_string(from)));
    n->status = to;
    if (to == domain::Status::pending) {
      n->attempts = 0;
      n->next_attempt_at = now_ms();
    }
    uow.notifications().update(*n);
  });
  if (!n) throw not_found("notification '" + id + "' does not exist");
  if (to == domain::Status::pending && ctx.wake_dispatcher) ctx.wake_dispatcher();
  co_return Response::json(200, to_json(*n));
}

}  // namespace

bool sees_everything(const http::Principal& p) { return p.role == Role::admin || p.role == Role::service; }

void register_notification_routes(http::Router& router, Context& ctx) {
  using http::Access;
  const auto readers = Access::roles_of({Role::customer, Role::staff, Role::service, Role::admin});
  router.add("POST", "/api/v1/notifications", Access::roles_of({Role::service, Role::admin}),
             guarded([&ctx](Request& r) { return post_notification(ctx, r); }));
  router.add("GET", "/api/v1/notifications", readers,
             guarded([&ctx](Request& r) { return list_notifications(ctx, r); }));
  router.add("GET", "/api/v1/notifications/{id}", readers,
             guarded([&ctx](Request& r) { return get_notification(ctx, r); }));
  router.add("POST", "/api/v1/notifications/{id}/retry", Access::roles_of({Role::admin}),
             guarded([&ctx](Request& r) {
               return change_status(ctx, r, domain::Status::failed, domain::Status::pending);
             }));
  router.add("POST", "/api/v1/notifications/{id}/cancel", Access::roles_of({Role::service, Role::admin}),
             guarded([&ctx](Request& r) {
               return change_status(ctx, r, domain::Status::pending, domain::Status::cancelled);
             }));
}

}  // namespace comms::api
