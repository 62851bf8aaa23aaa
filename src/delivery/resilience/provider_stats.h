// Per-provider figures: outcome counts, latency, cost per currency, alerts and
// the breaker's state, kept in the metrics registry (so /metrics shows them)
// and readable as one snapshot (so GET /api/v1/providers shows the same
// numbers, read from the same series).
//
// Metric families (labels):
//   comms_provider_sends_total{provider,outcome}    outcome:
//   ok|unavailable|ambiguous|unroutable|rejected|short_circuited comms_provider_send_seconds{provider}
//   histogram of provider call latency comms_provider_cost_total{provider,currency}    accepted messages'
//   cost, in currency units comms_provider_alerts_total{provider,reason}    conditions an operator must fix
//   (credentials, balance) comms_provider_breaker_state{provider}          0 closed, 1 half-open, 2 open
//   comms_provider_failovers_total{provider}        messages moved on from this provider to the next
//
// Thread-safety: every method may be called concurrently. The registry and the
// breaker must outlive the stats object.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "delivery/resilience/circuit_breaker.h"
#include "delivery/resilience/provider.h"
#include "domain/notification.h"

namespace comms::delivery {

struct ProviderSnapshot {
  std::string name;
  domain::Channel channel = domain::Channel::sms;
  int priority = 0;  // 1 = tried first for its channel
  CircuitBreaker::State breaker = CircuitBreaker::State::closed;
  int consecutive_failures = 0;
  std::uint64_t times_opened = 0;
  std::int64_t retry_in_ms = 0;            // open breaker: time until the next probe
  std::map<std::string, double> outcomes;  // outcome -> count (every outcome listed, 0 included)
  double failovers = 0;
  std::uint64_t latency_count = 0;
  double latency_sum_seconds = 0;
  std::vector<std::pair<double, std::uint64_t>> latency_buckets;  // upper bound (s) -> cumulative count
  std::map<std::string, double> cost;                             // currency -> total
  std::map<std::string, double> alerts;                           // reason -> count
};

class ProviderStats {
 public:
  ProviderStats(metrics::Registry& registry, std::string provider, domain::Channel channel, int priority,
                std::shared_ptr<const CircuitBreaker> breaker);
  ProviderStats(const ProviderStats&) = delete;
  ProviderStats& operator=(const ProviderStats&) = delete;

  // One finished provider call.
  void record(const ProviderResult& r, std::chrono::steady_clock::duration latency);
  // The breaker refused the call.
  void short_circuited();
  void failover();
  void alert(const std::string& reason);
  ProviderSnapshot snapshot() const;

 private:
  metrics::Registry& registry_;
  const std::string provider_;
  const domain::Channel channel_;
  const int priority_;
  const std::shared_ptr<const CircuitBreaker> breaker_;
  std::map<std::string, metrics::Counter*> outcomes_;  // fixed at construction
  metrics::Histogram& latency_;
  metrics::Counter& failovers_;
  metrics::CallbackGauge breaker_gauge_;
  mutable std::mutex mu_;
  std::map<std::string, metrics::Counter*> cost_;    // guarded by mu_; by currency
  std::map<std::string, metrics::Counter*> alerts_;  // guarded by mu_; by reason
};

// Every provider of every channel, in channel then priority order.
class ProviderMonitor {
 public:
  void add(std::shared_ptr<ProviderStats> stats);
  std::vector<ProviderSnapshot> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<ProviderStats>> stats_;  // guarded by mu_
};

}  // namespace comms::delivery
