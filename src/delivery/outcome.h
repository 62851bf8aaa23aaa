// Pure state changes of a notification after a send attempt, and the outbox
// events each change publishes. No I/O: the dispatcher commits what this
// returns in one unit of work.
#pragma once
#include <chrono>
#include <vector>

#include "delivery/channel.h"
#include "domain/notification.h"
#include "store/store.h"

namespace comms::delivery {

struct RetryPolicy {
  int max_attempts = 4;
  std::chrono::milliseconds base{2000};
  std::chrono::milliseconds max{300000};
};

// Applies `result` of an attempt to `n` (already counted in n.attempts) at
// `now`: Sent/Delivered, Pending again with a backoff, or Failed. Returns the
// outbox events to write with it (NotificationSent, NotificationDelivered,
// NotificationFailed).
std::vector<store::OutboxMessage> apply_outcome(domain::Notification& n, const SendResult& result,
                                                domain::Millis now, const RetryPolicy& policy);

// A delivery report arrived for `n` (Sent -> Delivered or Failed). Returns the
// outbox events; empty when the report changes nothing (e.g. a duplicate).
std::vector<store::OutboxMessage> apply_delivery_report(domain::Notification& n, bool delivered,
                                                        const std::string& reason, domain::Millis now);

// Outbox event for a state that was reached outside the send path.
store::OutboxMessage make_event(const domain::Notification& n, std::string_view type, domain::Millis now);

}  // namespace comms::delivery
