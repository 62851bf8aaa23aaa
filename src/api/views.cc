#include "api/views.h"

#include <boost/json.hpp>

#include "common/clock.h"

namespace comms::api {
namespace {
boost::json::value time_or_null(domain::Millis t) {
  if (t == 0) return nullptr;
  return boost::json::value(format_iso8601(t));
}
boost::json::value string_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return boost::json::value(s);
}
void put_content(boost::json::object& o, const store::TemplateContent& c) {
  o["subject"] = string_or_null(c.subject);
  o["body"] = c.body;
  o["htmlBody"] = string_or_null(c.html_body);
  o["maxSegments"] = c.max_segments;
  o["strict"] = c.strict;
}
}  // namespace

boost::json::object to_json(const domain::Notification& n) {
  boost::json::object o;
  o["id"] = n.id;
  o["eventId"] = string_or_null(n.event_id);
  o["correlationId"] = string_or_null(n.correlation_id);
  o["recipientId"] = n.recipient_id;
  o["channel"] = domain::to_string(n.channel);
  o["to"] = string_or_null(n.to);
  o["templateCategory"] = string_or_null(n.template_category);
  o["templateName"] = string_or_null(n.template_name);
  o["locale"] = string_or_null(n.locale);
  o["subject"] = string_or_null(n.subject);
  o["content"] = n.content;
  o["status"] = domain::to_string(n.status);
  o["priority"] = n.priority;
  o["critical"] = n.critical;
  o["attempts"] = n.attempts;
  o["nextAttemptAt"] = n.status == domain::Status::pending ? time_or_null(n.next_attempt_at) : nullptr;
  o["provider"] = string_or_null(n.provider);
  o["providerMessageId"] = string_or_null(n.provider_message_id);
  if (n.currency.empty()) {
    o["cost"] = nullptr;
  } else {
    o["cost"] = static_cast<double>(n.cost_micros) / 1e6;
  }
  o["currency"] = string_or_null(n.currency);
  o["lastError"] = string_or_null(n.last_error);
  o["createdAt"] = time_or_null(n.created_at);
  o["sentAt"] = time_or_null(n.sent_at);
  o["deliveredAt"] = time_or_null(n.delivered_at);
  o["readAt"] = time_or_null(n.read_at);
  o["version"] = n.version;
  return o;
}

boost::json::object to_json(const domain::Recipient& r) {
  boost::json::object o;
  o["id"] = r.id;
  o["name"] = r.name;
  o["phone"] = string_or_null(r.phone);
  o["email"] = string_or_null(r.email);
  o["language"] = r.language;
  o["timezone"] = r.timezone;
  o["branchId"] = string_or_null(r.branch_id);
  o["updatedAt"] = time_or_null(r.updated_at);
  o["version"] = r.version;
  return o;
}

boost::json::object to_json(const store::DevMessage& m) {
  boost::json::object o;
  o["seq"] = m.seq;
  o["notificationId"] = m.notification_id;
  o["channel"] = domain::to_string(m.channel);
  o["to"] = m.to;
  o["subject"] = m.subject;
  o["body"] = m.body;
  o["capturedAt"] = time_or_null(m.captured_at);
  return o;
}

boost::json::object to_json(const store::TemplateRecord& t, bool content) {
  boost::json::object o;
  o["id"] = t.id;
  o["category"] = t.category;
  o["name"] = t.name;
  o["channel"] = domain::to_string(t.channel);
  o["locale"] = t.locale;
  o["description"] = t.description;
  o["activeVersion"] = t.active_version;
  o["latestVersion"] = t.latest_version;
  if (content) put_content(o, t.active);
  o["createdAt"] = time_or_null(t.created_at);
  o["updatedAt"] = time_or_null(t.updated_at);
  o["version"] = t.version;
  return o;
}

boost::json::object to_json(const store::TemplateVersion& v, bool active) {
  boost::json::object o;
  o["version"] = v.version;
  o["active"] = active;
  put_content(o, v.content);
  o["createdBy"] = v.created_by;
  o["createdAt"] = time_or_null(v.created_at);
  return o;
}

}  // namespace comms::api
