#include "delivery/inapp/inapp_channel.h"

namespace comms::delivery {

boost::asio::awaitable<SendResult> InAppChannel::send(const Outgoing& message) {
  domain::Notification n;
  n.id = message.notification_id;
  n.recipient_id = message.recipient_id;
  n.channel = domain::Channel::inapp;
  n.template_category = message.category;
  n.subject = message.subject;
  n.content = message.text;
  n.correlation_id = message.correlation_id;
  n.created_at = message.created_at;
  SendResult r = SendResult::ok_from("hub");
  r.provider_message_id = message.notification_id;
  try {
    r.delivered = co_await notifier_.notify(std::move(n));
  } catch (const std::exception& e) {
    // notify() reports delivery problems as false; anything thrown is worth another attempt.
    co_return SendResult::failure(SendResult::Kind::transient, "hub", e.what());
  }
  co_return r;
}

}  // namespace comms::delivery
