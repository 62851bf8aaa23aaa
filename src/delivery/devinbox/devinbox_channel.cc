#include "delivery/devinbox/devinbox_channel.h"

#include "common/clock.h"

namespace comms::delivery {

boost::asio::awaitable<SendResult> DevInboxChannel::send(const Outgoing& message) {
  store::DevMessage m;
  m.notification_id = message.notification_id;
  m.channel = message.channel;
  m.to = message.to;
  m.subject = message.subject;
  m.body = message.html.empty() ? message.text : message.text + "\n\n" + message.html;
  m.captured_at = now_ms();
  SendResult r = SendResult::ok_from("devinbox");
  r.delivered = true;
  r.provider_message_id = message.notification_id;
  // The capture commits with the outcome (one unit of work per send); if that unit fails, neither
  // is stored and the notification is attempted again, so the inbox still gets exactly one copy.
  r.commit_with_outcome = [m = std::move(m)](store::UnitOfWork& uow) mutable { uow.dev_inbox().add(m); };
  co_return r;
}

}  // namespace comms::delivery
