// The receive pipeline both bus implementations share: routes a decoded
// envelope to its consumer, applies the retry policy, and returns what the
// transport must do with the delivery (acknowledge, move to the error queue,
// move to the skipped queue). Counts and logs every verdict.
//
// Thread-safety: subscribe() before the first handle(); handle() and
// undecodable() from any thread or coroutine. The Receiver must outlive every
// handle() coroutine.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus_metrics.h"
#include "bus/message_bus.h"

namespace comms::bus {

struct Verdict {
  enum class Kind { ack, fault, skip };
  Kind kind = Kind::ack;
  std::string type;            // the routed type name (or the first one for skip/fault)
  std::string reason;          // fault: the MT-Fault-Message; skip: why
  std::string exception_type;  // fault: the MT-Fault-ExceptionType
  int retries = 0;             // consumer calls after the first
};

// Exception types reported in MT-Fault-ExceptionType for faults that are not exceptions.
inline constexpr const char* kEnvelopeErrorType = "comms::bus::EnvelopeError";
inline constexpr const char* kConsumerFaultType = "comms::bus::ConsumerFault";
inline constexpr const char* kRetryLimitType = "comms::bus::RetryLimitExceeded";

class Receiver {
 public:
  // `retry_limit`: consumer calls repeated after Outcome::retry or an exception
  // before the message is faulted (0 = fault at once).
  Receiver(BusMetrics& metrics, int retry_limit) : metrics_(metrics), retry_limit_(retry_limit) {}

  void subscribe(const std::string& type, Consumer consumer);
  std::vector<std::string> types() const;
  bool empty() const { return consumers_.empty(); }
  bool has(std::string_view type) const { return consumers_.find(type) != consumers_.end(); }

  // Runs the consumer for `e` (retrying with a short backoff). Never throws.
  boost::asio::awaitable<Verdict> handle(const Envelope& e) const;
  // The verdict for a delivery that could not be decoded (`error` says why).
  Verdict undecodable(const std::string& error, const std::string& message_id) const;

 private:
  BusMetrics& metrics_;
  const int retry_limit_;
  // A subscribed type's series, looked up once (hot path).
  struct Route {
    Consumer consumer;
    std::string label;
    metrics::Counter& consumed;
    metrics::Counter& acked;
    metrics::Counter& faulted;
    metrics::Counter& retries;
    metrics::Histogram& seconds;
  };
  std::map<std::string, Route, std::less<>> consumers_;
};

}  // namespace comms::bus
