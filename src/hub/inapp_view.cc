#include "hub/inapp_view.h"

#include "common/clock.h"

namespace comms::hub {
namespace {

boost::json::value text_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return boost::json::value(s);
}

boost::json::value time_or_null(Millis t) {
  if (t == 0) return nullptr;
  return boost::json::value(format_iso8601(t));
}

}  // namespace

boost::json::object inapp_view(const domain::Notification& n) {
  boost::json::object o;
  o["id"] = n.id;
  o["recipientId"] = n.recipient_id;
  o["category"] = text_or_null(n.template_category);
  o["subject"] = text_or_null(n.subject);
  o["content"] = n.content;
  o["createdAt"] = time_or_null(n.created_at);
  o["readAt"] = time_or_null(n.read_at);
  o["correlationId"] = text_or_null(n.correlation_id);
  return o;
}

}  // namespace comms::hub
