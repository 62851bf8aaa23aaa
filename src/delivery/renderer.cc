#include "delivery/renderer.h"

namespace comms::delivery {

std::string resolve_address(const domain::Notification& n, const domain::Recipient* r) {
  if (!n.to.empty()) return n.to;
  switch (n.channel) {
    case domain::Channel::sms: return r ? r->phone : std::string();
    case domain::Channel::email: return r ? r->email : std::string();
    case domain::Channel::inapp: return n.recipient_id;
  }
  return {};
}

RenderOutcome envelope(const domain::Notification& n, const domain::Recipient* r) {
  RenderOutcome out;
  out.message.notification_id = n.id;
  out.message.channel = n.channel;
  out.message.recipient_id = n.recipient_id;
  out.message.category = n.template_category;
  out.message.correlation_id = n.correlation_id;
  out.message.created_at = n.created_at;
  out.message.to = resolve_address(n, r);
  if (out.message.to.empty()) {
    out.ok = false;
    out.error = std::string("recipient ") + n.recipient_id + " has no " +
                (n.channel == domain::Channel::sms ? "phone number" : "email address");
  }
  return out;
}

RenderOutcome render_literal(const domain::Notification& n, const domain::Recipient* r) {
  RenderOutcome out = envelope(n, r);
  if (!out.ok) return out;
  out.message.subject = n.subject;
  out.message.text = n.content;
  if (n.content.empty() && !n.template_name.empty()) {
    out.ok = false;
    out.error = "template rendering is not available for " + n.template_category + "/" + n.template_name;
  }
  return out;
}

boost::asio::awaitable<RenderOutcome> LiteralRenderer::render(const domain::Notification& n,
                                                              const domain::Recipient* r) {
  co_return render_literal(n, r);
}

}  // namespace comms::delivery
