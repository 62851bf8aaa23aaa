// The backplane carries hub messages between service instances: a message published to a group on
// any instance reaches the members of that group connected to every instance. InProcessBackplane
// (one instance) is the embedded default; a Redis pub/sub backplane is the scale-out sibling.
//
// The "delivered" signal crosses instances with the message. publish() takes a `done` callback
// that the backplane calls once: true as soon as some instance reports that one of its connections
// had the frame written, false when every instance reported none (or the backplane gave up
// waiting). Each instance learns that from its Deliver callback's `done`. Over Redis: PUBLISH
// returns how many instances received the message; each answers on the origin instance's reply
// channel with the message id and its local result; the origin reports true on the first positive
// answer, false when all of them answered negatively, and the hub bounds the wait with its
// delivery timeout either way (docs/hub.md).
//
// Threading: every method may be called from any thread. Callbacks run on backplane or hub
// threads; they must not block.
#pragma once
#include <functional>
#include <memory>
#include <string>

namespace comms::hub {

// One or more complete SignalR records (JSON, each ending in 0x1E), serialized once per publish
// and shared by every connection that writes it.
using Frame = std::shared_ptr<const std::string>;
using DeliveredCallback = std::function<void(bool delivered)>;

class Backplane {
 public:
  // The local side, given to start(): writes `frame` to this instance's members of `group`, and
  // calls `done` once with whether at least one of them had it written.
  using Deliver = std::function<void(const std::string& group, Frame frame, DeliveredCallback done)>;

  virtual ~Backplane() = default;
  // Called once by the hub before anything else.
  virtual void start(Deliver deliver) = 0;
  // This instance gained its first member of `group` / lost its last one. Messages for groups an
  // instance is not subscribed to need not reach it.
  virtual void subscribe(const std::string& group) = 0;
  virtual void unsubscribe(const std::string& group) = 0;
  // Sends `frame` to the members of `group` on every instance; `done` as described above.
  virtual void publish(const std::string& group, Frame frame, DeliveredCallback done) = 0;
  // No more deliveries after this returns. Idempotent.
  virtual void stop() = 0;
};

// The single-instance backplane: publish() hands the frame straight to this instance's Deliver.
std::shared_ptr<Backplane> make_in_process_backplane();

}  // namespace comms::hub
