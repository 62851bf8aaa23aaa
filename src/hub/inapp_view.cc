#include "hub/inapp_view.h"

#include "common/clock.h"

namespace comms::hub {
namespace {

// Absent values (empty text, time 0) are JSON null.
boost::json::value or_null(const std::string& text) {
  return text.empty() ? nullptr : boost::json::value(text);
}
boost::json::value or_null(Millis t) {
  return t == 0 ? nullptr : boost::json::value(format_iso8601(t));
}

}  // namespace

boost::json::object inapp_view(const domain::Notification& n) {
  boost::json::object o;
  o["id"] = n.id;
  o["recipientId"] = n.recipient_id;
  o["category"] = or_null(n.template_category);
  o["subject"] = or_null(n.subject);
  o["content"] = n.content;
  o["createdAt"] = or_null(n.created_at);
  o["readAt"] = or_null(n.read_at);
  o["correlationId"] = or_null(n.correlation_id);
  return o;
}

}  // namespace comms::hub
