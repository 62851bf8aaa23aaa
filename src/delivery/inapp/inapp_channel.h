// The in-app Channel: delivers through the SignalR hub (hub::Notifier). A notification for a user
// goes to that user's connections; a recipient id "branch:{id}" or "role:{role}" goes to that
// group (hub/groups.h). The result is always ok (in-app messages also wait in the inbox): delivered
// when a connection received it (the dispatcher marks it Delivered), otherwise Sent, and the user
// finds it in the inbox (GET /api/v1/inbox, GetUnread). Thread-safe.
#pragma once
#include "delivery/channel.h"
#include "hub/notifier.h"

namespace comms::delivery {

class InAppChannel : public Channel {
 public:
  // `notifier` must outlive the channel.
  explicit InAppChannel(hub::Notifier& notifier) : notifier_(notifier) {}
  boost::asio::awaitable<SendResult> send(const Outgoing& message) override;

 private:
  hub::Notifier& notifier_;
};

}  // namespace comms::delivery
