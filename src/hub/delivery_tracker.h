// Internal to hub/: tracks one published frame across the local connections it was queued to and
// reports once: true when the first of them had it written, false when all of them failed (or
// there were none). The publisher holds one count while it queues, so a fast write cannot report
// "none" before the last connection was queued.
//
// Thread-safe: connections finish from their own strands.
#pragma once
#include <atomic>
#include <memory>

#include "hub/backplane.h"

namespace comms::hub {

class DeliveryTracker {
 public:
  explicit DeliveryTracker(DeliveredCallback done) : done_(std::move(done)) {}
  // One more connection will finish().
  void add() { pending_.fetch_add(1, std::memory_order_relaxed); }
  // A connection wrote the frame (true) or dropped it (false); also the publisher's release (false).
  void finish(bool written) {
    if (written) report(true);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) report(false);
  }

 private:
  void report(bool delivered) {
    if (!reported_.exchange(true, std::memory_order_acq_rel)) done_(delivered);
  }
  std::atomic<int> pending_{1};  // starts with the publisher's hold
  std::atomic<bool> reported_{false};
  DeliveredCallback done_;
};

// A record queued on one connection; `tracker` is set for published frames whose delivery matters.
struct Outbound {
  Frame frame;
  std::shared_ptr<DeliveryTracker> tracker;
};

}  // namespace comms::hub
