// POST /api/v1/events: publishers without a bus hand in an event, either as a
// MassTransit envelope or as {type, message}. It goes through the same
// consumer as the bus (same inbox, same rules).
#include <boost/json.hpp>

#include "api/handler.h"
#include "api/intake_routes.h"
#include "api/json_input.h"
#include "bus/masstransit.h"
#include "common/clock.h"
#include "intake/intake.h"

namespace comms::api {
namespace {

using boost::asio::awaitable;
using http::Request;
using http::Response;
using http::Role;

struct Submitted {
  std::string type;
  bus::Envelope envelope;
};

Submitted parse_submission(const Request& req) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(req.body, ec);
  if (ec || !doc.is_object()) {
    if (req.body.empty()) throw bad_request("request body is empty; expected an event");
    throw bad_request(ec ? "malformed JSON: " + ec.message() : "request body must be a JSON object");
  }
  Submitted s;
  if (bus::find_ci(doc.get_object(), "messageType")) {
    try {
      s.envelope = bus::decode_envelope(req.body, "");
    } catch (const bus::EnvelopeError& e) {
      throw ApiError(400, "invalid_envelope", e.what());
    }
    s.type = s.envelope.type_name();
    if (s.type.empty())
      throw ApiError(400, "invalid_envelope", "field 'messageType' holds no urn:message: type");
    return s;
  }
  const auto o = parse_object(req.body, {"type", "message", "messageId", "correlationId"});
  s.type = required_string(o, "type", 256);
  if (auto from_urn = bus::type_from_urn(s.type); !from_urn.empty()) s.type = from_urn;
  const auto* message = optional_object(o, "message");
  if (!message) throw bad_request("missing field 'message' (the event's payload object)");
  s.envelope.message = boost::json::serialize(*message);
  s.envelope.message_id = optional_string(o, "messageId", 128).value_or("");
  s.envelope.correlation_id = optional_string(o, "correlationId", 128).value_or("");
  return s;
}

boost::json::object to_json(const intake::IntakeResult& r) {
  boost::json::object body;
  body["eventId"] = r.event_id;
  body["type"] = r.event_type;
  body["correlationId"] = r.correlation_id;
  body["duplicate"] = r.duplicate;
  body["directoryUpdated"] = r.directory_updated;
  if (r.workflow.empty()) {
    body["workflow"] = nullptr;
  } else {
    boost::json::object w;
    w["name"] = r.workflow;
    w["state"] =
        r.workflow_state.empty() ? boost::json::value(nullptr) : boost::json::value(r.workflow_state);
    w["started"] = !r.workflow_state.empty();
    body["workflow"] = std::move(w);
  }
  boost::json::array created;
  for (const auto& n : r.executed.created) {
    boost::json::object o;
    o["id"] = n.id;
    o["recipientId"] = n.recipient_id;
    o["channel"] = domain::to_string(n.channel);
    o["templateCategory"] = n.template_category;
    o["templateName"] = n.template_name;
    o["status"] = domain::to_string(n.status);
    o["critical"] = n.critical;
    o["notBefore"] = format_iso8601(n.next_attempt_at);
    o["deferred"] = n.next_attempt_at > n.created_at;
    created.push_back(std::move(o));
  }
  body["notifications"] = std::move(created);
  boost::json::array skipped;
  for (const auto& s : r.executed.skipped) {
    boost::json::object o;
    o["recipientId"] = s.recipient_id;
    o["channel"] = domain::to_string(s.channel);
    o["templateName"] = s.template_name;
    o["step"] = s.step.empty() ? boost::json::value(nullptr) : boost::json::value(s.step);
    o["reason"] = s.reason;
    skipped.push_back(std::move(o));
  }
  body["skipped"] = std::move(skipped);
  return body;
}

awaitable<Response> post_event(intake::Intake& intake, Request& req) {
  auto s = parse_submission(req);
  const auto result = co_await intake.handle(s.type, s.envelope);
  co_return Response::json(result.duplicate ? 200 : 202, to_json(result));
}

}  // namespace

void register_event_routes(http::Router& router, Context& ctx, intake::Intake& intake) {
  router.add("POST", "/api/v1/events", http::Access::roles_of({Role::service, Role::admin}),
             guarded([&intake](Request& r) { return post_event(intake, r); }));
}

void register_intake_routes(http::Router& router, Context& ctx, intake::Intake& intake) {
  register_event_routes(router, ctx, intake);
  register_preference_routes(router, ctx, intake);
  register_workflow_routes(router, ctx);
}

}  // namespace comms::api
