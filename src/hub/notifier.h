// What the rest of the service uses to push an in-app notification to hub clients (the in-app
// delivery channel holds one). hub::Hub implements it. Header-only on purpose: delivery/inapp
// depends on this interface, not on the hub's code.
//
// Thread-safety: notify() may be called concurrently from any thread's coroutine.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "domain/notification.h"

namespace comms::hub {

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Sends ReceiveNotification(n) to the connections n.recipient_id addresses (hub/groups.h), on
  // every instance the backplane reaches. Completes with true once at least one connection has had
  // the message written to its socket; false when none had (nobody connected, every one too slow,
  // the hub stopping) or when that was not known within the delivery timeout. Never throws for
  // delivery problems.
  // Takes `n` by value: the coroutine may outlive the caller's copy.
  virtual boost::asio::awaitable<bool> notify(domain::Notification n) = 0;
};

}  // namespace comms::hub
