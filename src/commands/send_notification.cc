#include "commands/send_notification.h"

#include "commands/rejected.h"
#include "common/ids.h"
#include "domain/address.h"

namespace comms::commands {

void validate(SendNotification& cmd) {
  using K = Rejected::Kind;
  if (cmd.recipient_id.empty()) throw Rejected(K::invalid, "invalid_request", "missing field 'recipientId'");
  if (cmd.template_name.empty() && cmd.content.empty())
    throw Rejected(K::invalid, "invalid_request", "give either 'content' or 'templateCategory' and 'templateName'");
  if (cmd.template_name.empty() != cmd.template_category.empty())
    throw Rejected(K::invalid, "invalid_request", "'templateCategory' and 'templateName' go together");
  if (!cmd.to.empty()) {
    if (cmd.channel == domain::Channel::sms) {
      auto phone = domain::normalize_phone(cmd.to);
      if (!phone)
        throw Rejected(K::invalid, "invalid_request",
                       "field 'to' must be a phone number such as +260971234567 or 0971234567");
      cmd.to = std::move(*phone);
    }
    if (cmd.channel == domain::Channel::email && !domain::is_email(cmd.to))
      throw Rejected(K::invalid, "invalid_request", "field 'to' must be an email address");
    if (cmd.channel == domain::Channel::inapp)
      throw Rejected(K::invalid, "invalid_request", "field 'to' is not used by the inapp channel; inapp targets recipientId");
  }
  if (!cmd.locale.empty() && !domain::is_language_tag(cmd.locale))
    throw Rejected(K::invalid, "invalid_request", "field 'locale' must be a language tag such as en, bem or ny");
}

SendAccepted send_notification(store::UnitOfWork& uow, const SendNotification& cmd, domain::Millis now) {
  using K = Rejected::Kind;
  if (!cmd.idempotency_key.empty()) {
    if (auto prior = uow.idempotency().get(cmd.principal, cmd.idempotency_key)) {
      if (prior->request_hash != cmd.request_hash)
        throw Rejected(K::conflict, "idempotency_key_reused",
                       "Idempotency-Key was already used with a different request body");
      if (auto n = uow.notifications().get(prior->notification_id)) return {std::move(*n), true};
    }
  }
  if (cmd.to.empty() && cmd.channel != domain::Channel::inapp) {
    auto r = uow.recipients().get(cmd.recipient_id);
    const bool has = r && (cmd.channel == domain::Channel::sms ? !r->phone.empty() : !r->email.empty());
    if (!has)
      throw Rejected(K::unprocessable, "no_address",
                     "recipient '" + cmd.recipient_id + "' has no " +
                         (cmd.channel == domain::Channel::sms ? "phone number" : "email address") +
                         " in the directory; give 'to' or PUT /api/v1/recipients/" + cmd.recipient_id);
  }
  domain::Notification n;
  n.id = new_uuid();
  n.event_id = cmd.event_id;
  n.correlation_id = cmd.correlation_id;
  n.recipient_id = cmd.recipient_id;
  n.channel = cmd.channel;
  n.to = cmd.to;
  n.template_category = cmd.template_category;
  n.template_name = cmd.template_name;
  n.locale = cmd.locale;
  n.personalization = cmd.personalization.empty() ? "{}" : cmd.personalization;
  n.subject = cmd.subject;
  n.content = cmd.content;
  n.status = domain::Status::pending;
  n.priority = cmd.priority;
  n.critical = cmd.critical;
  n.created_at = now;
  n.next_attempt_at = std::max(now, cmd.not_before);
  uow.notifications().insert(n);
  if (!cmd.idempotency_key.empty()) {
    store::IdempotencyRecord rec;
    rec.key = cmd.idempotency_key;
    rec.principal = cmd.principal;
    rec.request_hash = cmd.request_hash;
    rec.notification_id = n.id;
    rec.created_at = now;
    uow.idempotency().put(rec);
  }
  return {std::move(n), false};
}

}  // namespace comms::commands
