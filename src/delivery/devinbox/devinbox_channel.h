// The built-in dev inbox: a Channel that "delivers" by storing the message in
// the dev_inbox table, the way Mailtrap captures a team's mail. The row is
// written by the dispatcher's outcome unit of work (SendResult::commit_with_outcome). Used on embedded
// defaults for every channel that has no real provider configured. Delivery is
// idempotent per notification id, so an at-least-once re-send after a crash
// leaves one copy. Thread-safe.
#pragma once
#include "delivery/channel.h"
#include "store/store.h"  // the capture is a store::DevMessage

namespace comms::delivery {

class DevInboxChannel : public Channel {
 public:
  boost::asio::awaitable<SendResult> send(const Outgoing& message) override;
};

}  // namespace comms::delivery
