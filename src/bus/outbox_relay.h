// The outbox relay: publishes the events that state changes wrote to the
// outbox (NotificationSent, NotificationDelivered, NotificationFailed, ...) on
// the bus, in seq order, and marks them published once the bus confirmed them.
//
// Each round reads up to `batch` unpublished rows, puts them on the bus in seq
// order (pipelined: all are in flight together, and the bus writes them in
// that order), then records the outcome in one unit of work: confirmed rows
// get published_at, failed rows get attempts+1 and last_error. After a failed
// round it backs off (retry_base doubling up to retry_max). Because a batch is
// written in order on one channel, a lost connection fails everything not yet
// confirmed, and the round's publishes carry the bus's publish epoch (so one
// queued after the loss fails rather than going out on the next connection),
// a consumer never sees row N+1 before row N unless the broker refused
// (nacked) N alone. Every publish uses the row's id as its messageId,
// so a row published twice (crash between confirm and commit) is recognised by
// the consumer's inbox.
//
// One relay per database: see docs/bus.md for PostgreSQL with several instances.
//
// Local consumers: this service's own reactions to what it publishes (the sagas
// react to NotificationSent and NotificationFailed) get each confirmed row from
// the relay, in process, with the same messageId the bus carried, instead of a
// second trip through the broker back into our own queue. A row is marked
// published only when its local consumers are done too; if one asks for a retry
// (or throws) the row stays unpublished and the next round sends it again, so
// the consumer sees it at least once and its inbox drops the repeat; after 10
// rounds the relay logs an error and lets the row go.
//
// Thread-safety: wake() from any thread; start()/stop() from the owner. The
// store and the bus must outlive the relay; stop() before destroying it.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "bus/message_bus.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}
namespace comms::metrics {
class Registry;
}

namespace comms::bus {

struct OutboxOptions {
  int batch = 100;                            // rows per round (and publishes in flight)
  std::chrono::milliseconds poll{1000};       // idle poll interval (wake() cuts it short)
  std::chrono::milliseconds retry_base{500};  // backoff after a failed round
  std::chrono::milliseconds retry_max{30000};
};

class OutboxRelay {
 public:
  OutboxRelay(boost::asio::io_context& io, store::Store& store, MessageBus& bus, metrics::Registry& registry,
              OutboxOptions options);
  ~OutboxRelay();
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // Before start(): `consumer` also gets every row of `message_type` once the bus confirmed it.
  void deliver_locally(std::string message_type, Consumer consumer);

  void start();
  // New outbox rows were committed: run a round now instead of at the next poll.
  void wake();
  // Stops after the current round (waiting for it up to `timeout`); rows of an
  // unfinished round stay unpublished and go out after the next start.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace comms::bus
