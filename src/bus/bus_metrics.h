// The bus's Prometheus series (comms_bus_*), shared by both implementations.
//
// Message types come from untrusted input, so a type label takes at most
// kMaxTypeLabels distinct values; later ones are counted as "other".
// Thread-safe; the registry must outlive it.
#pragma once
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "common/metrics.h"

namespace comms::bus {

class BusMetrics {
 public:
  static constexpr std::size_t kMaxTypeLabels = 64;

  explicit BusMetrics(metrics::Registry& registry);

  // `type` itself while fewer than kMaxTypeLabels were seen, else "other"; "unknown" for "".
  std::string type_label(std::string_view type);

  metrics::Family<metrics::Counter>& consumed;  // deliveries handed to the pipeline, by type
  metrics::Family<metrics::Counter>& acked;     // handled (done) and acknowledged
  metrics::Family<metrics::Counter>& faulted;   // moved to the error queue (or dead letters)
  metrics::Family<metrics::Counter>& skipped;   // no consumer: moved to the skipped queue
  metrics::Family<metrics::Counter>& retries;   // consumer calls repeated after retry/throw
  metrics::Family<metrics::Histogram>& handle_seconds;
  metrics::Family<metrics::Counter>& published;         // confirmed publishes, by type
  metrics::Family<metrics::Counter>& publish_failures;  // PublishError, by type
  metrics::Family<metrics::Gauge>& connected;           // 1 when the connection is up, by connection
  metrics::Family<metrics::Counter>& reconnects;        // connection attempts after a failure

 private:
  std::mutex mu_;
  std::set<std::string, std::less<>> seen_;  // guarded by mu_
};

}  // namespace comms::bus
