// Internal to hub/: what a connection queues. One Outbound is shared by every connection it goes to
// (a fan-out costs one reference count per connection). A published notification also tracks the
// connections it was queued to and reports once: true when the first of them had it written, false
// when all of them dropped it (or there were none). The publisher holds one count while it queues,
// so a fast write cannot report "none" before the last connection was queued.
//
// Thread-safe: connections finish from their own strands.
#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "hub/backplane.h"

namespace comms::hub {

class Outbound {
 public:
  // `done` empty: nobody waits (pings, completions, handshake answers).
  explicit Outbound(Frame frame, DeliveredCallback done = {})
      : frame_(std::move(frame)), done_(std::move(done)) {}
  Outbound(const Outbound&) = delete;
  Outbound& operator=(const Outbound&) = delete;

  const std::string& text() const { return *frame_; }

  // One more connection will finish().
  void add() { pending_.fetch_add(1, std::memory_order_relaxed); }
  // A connection wrote it (true) or dropped it (false); also the publisher's release (false).
  void finish(bool written) {
    if (!done_) return;
    if (written) report(true);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) report(false);
  }

 private:
  void report(bool delivered) {
    if (!reported_.exchange(true, std::memory_order_acq_rel)) done_(delivered);
  }

  const Frame frame_;
  std::atomic<int> pending_{1};  // starts with the publisher's hold
  std::atomic<bool> reported_{false};
  const DeliveredCallback done_;
};

using OutboundPtr = std::shared_ptr<Outbound>;

inline OutboundPtr make_outbound(std::string record) {
  return std::make_shared<Outbound>(std::make_shared<const std::string>(std::move(record)));
}

}  // namespace comms::hub
