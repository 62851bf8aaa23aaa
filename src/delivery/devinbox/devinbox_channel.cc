#include "delivery/devinbox/devinbox_channel.h"

#include "common/async.h"
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
  try {
    co_await await_callback([&](Callback done) {
      store_.submit_write([&m](store::UnitOfWork& uow) { uow.dev_inbox().add(m); }, std::move(done));
    });
  } catch (const std::exception& e) {
    co_return SendResult::failure(SendResult::Kind::transient, "devinbox", e.what());
  }
  SendResult r = SendResult::ok_from("devinbox");
  r.delivered = true;
  r.provider_message_id = message.notification_id;
  co_return r;
}

}  // namespace comms::delivery
