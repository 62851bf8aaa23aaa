// The in-process bus: the embedded default (COMMS_BUS=inprocess). publish()
// hands the envelope to the local consumer of its type on the io_context and
// completes when that consumer finished with it (a type nobody consumes goes
// nowhere, like an exchange without bindings), so an outbox row is marked
// published only after its effects were handled (at-least-once across a crash,
// like a broker confirm plus a durable queue). Faulted messages and messages
// without a consumer are counted, logged and kept in a bounded dead-letter
// list (oldest dropped first) that tests and operators can inspect.
//
// Thread-safety: as MessageBus; dead_letters() from any thread.
#pragma once
#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bus/bus_metrics.h"
#include "bus/message_bus.h"
#include "bus/receiver.h"
#include "common/clock.h"

namespace boost::asio {
class io_context;
}
namespace comms::metrics {
class Registry;
}

namespace comms::bus {

struct InProcessOptions {
  std::string ns = "IntelliFin.Contracts";  // for message URNs
  std::string queue = "communications";     // names the dead-letter "queues"
  int retry_limit = 3;
  std::size_t dead_letter_capacity = 1000;
};

// A message that was faulted or skipped, as the broker's _error/_skipped queue would hold it.
struct DeadLetter {
  std::string queue;   // "<queue>_error" or "<queue>_skipped"
  std::string reason;  // MT-Reason: "fault" or "dead-letter"
  std::string type;
  std::string fault_message;   // MT-Fault-Message
  std::string exception_type;  // MT-Fault-ExceptionType
  Envelope envelope;
  Millis at = 0;
};

class InProcessBus : public MessageBus {
 public:
  InProcessBus(boost::asio::io_context& io, metrics::Registry& registry, InProcessOptions options);
  ~InProcessBus() override;

  void subscribe(const std::string& type, Consumer consumer) override;
  void start() override;
  boost::asio::awaitable<void> publish(const std::string& type, const std::string& message_json,
                                       PublishOptions options) override;
  boost::asio::awaitable<void> stop(std::chrono::milliseconds timeout) override;
  bool connected() const override { return true; }
  std::string name() const override { return "inprocess"; }

  // Runs an envelope received from elsewhere (e.g. POST /api/v1/events)
  // through the consumers with the same routing, retry, fault and skip
  // handling as a published one; returns the verdict. PublishError after stop().
  boost::asio::awaitable<Verdict> deliver(Envelope envelope);

  // Oldest first.
  std::vector<DeadLetter> dead_letters() const;

 private:
  boost::asio::awaitable<Verdict> run(Envelope envelope);
  void record(const Verdict& v, Envelope envelope);

  boost::asio::io_context& io_;
  const InProcessOptions options_;
  BusMetrics metrics_;
  Receiver receiver_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  // Shared with handler frames, which may outlive the bus when the io_context is torn down.
  std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
  mutable std::mutex mu_;
  std::deque<DeadLetter> dead_;  // guarded by mu_
};

}  // namespace comms::bus
