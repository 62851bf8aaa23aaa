#include "bus/bus_metrics.h"

namespace comms::bus {

BusMetrics::BusMetrics(metrics::Registry& r)
    : consumed(
          r.counter("comms_bus_consumed_total", "Messages received from the bus, by message type", {"type"})),
      acked(
          r.counter("comms_bus_acked_total", "Messages handled and acknowledged, by message type", {"type"})),
      faulted(r.counter("comms_bus_faulted_total",
                        "Messages moved to the error queue (undecodable, faulted or out of retries)",
                        {"type"})),
      skipped(r.counter("comms_bus_skipped_total", "Messages without a consumer, moved to the skipped queue",
                        {"type"})),
      retries(r.counter("comms_bus_retries_total", "Consumer calls repeated after retry or an exception",
                        {"type"})),
      handle_seconds(r.histogram("comms_bus_handle_seconds", "Time from delivery to verdict, by message type",
                                 {"type"})),
      published(r.counter("comms_bus_published_total", "Publishes confirmed by the broker, by message type",
                          {"type"})),
      publish_failures(r.counter("comms_bus_publish_failures_total",
                                 "Publishes that failed (nack, lost connection, timeout), by message type",
                                 {"type"})),
      connected(r.gauge("comms_bus_connected", "1 while the bus connection is up", {"connection"})),
      reconnects(
          r.counter("comms_bus_reconnects_total", "Connection attempts after a failure", {"connection"})) {}

std::string BusMetrics::type_label(std::string_view type) {
  if (type.empty()) return "unknown";
  std::lock_guard lock(mu_);
  if (seen_.count(type)) return std::string(type);
  if (seen_.size() >= kMaxTypeLabels) return "other";
  seen_.emplace(type);
  return std::string(type);
}

}  // namespace comms::bus
