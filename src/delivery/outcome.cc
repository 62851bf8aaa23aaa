#include "delivery/outcome.h"

#include <boost/json.hpp>

#include "common/ids.h"
#include "delivery/dispatcher.h"

namespace comms::delivery {

store::OutboxMessage make_event(const domain::Notification& n, std::string_view type, domain::Millis now) {
  boost::json::object o;
  o["notificationId"] = n.id;
  o["eventId"] = n.event_id;
  o["correlationId"] = n.correlation_id;
  o["recipientId"] = n.recipient_id;
  o["channel"] = domain::to_string(n.channel);
  o["templateCategory"] = n.template_category;
  o["templateName"] = n.template_name;
  o["status"] = domain::to_string(n.status);
  o["attempts"] = n.attempts;
  o["provider"] = n.provider;
  o["providerMessageId"] = n.provider_message_id;
  if (n.cost_micros != 0 || !n.currency.empty()) {
    o["cost"] = static_cast<double>(n.cost_micros) / 1e6;
    o["currency"] = n.currency;
  }
  if (!n.last_error.empty()) o["reason"] = n.last_error;
  o["timestamp"] = format_iso8601(now);
  store::OutboxMessage m;
  m.id = new_uuid();
  m.message_type = std::string(type);
  m.payload = boost::json::serialize(o);
  m.correlation_id = n.correlation_id.empty() ? n.id : n.correlation_id;
  m.created_at = now;
  return m;
}

std::vector<store::OutboxMessage> apply_outcome(domain::Notification& n, const SendResult& r, domain::Millis now,
                                                const RetryPolicy& policy) {
  std::vector<store::OutboxMessage> events;
  n.lease_until = 0;
  if (!r.provider.empty()) n.provider = r.provider;
  switch (r.kind) {
    case SendResult::Kind::ok:
      n.provider_message_id = r.provider_message_id;
      n.cost_micros = r.cost_micros;
      n.currency = r.currency;
      n.last_error.clear();
      n.sent_at = now;
      n.status = domain::Status::sent;
      events.push_back(make_event(n, "NotificationSent", now));
      if (r.delivered) {
        n.status = domain::Status::delivered;
        n.delivered_at = now;
        events.push_back(make_event(n, "NotificationDelivered", now));
      }
      break;
    case SendResult::Kind::transient:
      n.last_error = r.error;
      if (n.attempts < policy.max_attempts) {
        n.status = domain::Status::pending;
        n.next_attempt_at = now + backoff_delay(n.attempts, policy.base, policy.max).count();
        break;
      }
      n.status = domain::Status::failed;
      events.push_back(make_event(n, "NotificationFailed", now));
      break;
    case SendResult::Kind::permanent:
      n.last_error = r.error;
      n.status = domain::Status::failed;
      events.push_back(make_event(n, "NotificationFailed", now));
      break;
  }
  return events;
}

std::vector<store::OutboxMessage> apply_delivery_report(domain::Notification& n, bool delivered,
                                                        const std::string& reason, domain::Millis now) {
  if (delivered) {
    if (n.status == domain::Status::delivered || !domain::can_transition(n.status, domain::Status::delivered))
      return {};
    n.status = domain::Status::delivered;
    n.delivered_at = now;
    return {make_event(n, "NotificationDelivered", now)};
  }
  if (n.status == domain::Status::failed || !domain::can_transition(n.status, domain::Status::failed)) return {};
  n.status = domain::Status::failed;
  n.last_error = reason;
  return {make_event(n, "NotificationFailed", now)};
}

}  // namespace comms::delivery
