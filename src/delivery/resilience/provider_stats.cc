#include "delivery/resilience/provider_stats.h"

namespace comms::delivery {
namespace {

constexpr const char* kOutcomes[] = {"ok",         "unavailable", "ambiguous",
                                     "unroutable", "rejected",    "short_circuited"};

double state_value(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::closed:
      return 0;
    case CircuitBreaker::State::half_open:
      return 1;
    case CircuitBreaker::State::open:
      return 2;
  }
  return 0;
}

}  // namespace

ProviderStats::ProviderStats(metrics::Registry& registry, std::string provider, domain::Channel channel,
                             int priority, std::shared_ptr<const CircuitBreaker> breaker)
    : registry_(registry),
      provider_(std::move(provider)),
      channel_(channel),
      priority_(priority),
      breaker_(std::move(breaker)),
      latency_(registry.histogram("comms_provider_send_seconds", "Latency of provider calls", {"provider"})
                   .labels({provider_})),
      failovers_(registry
                     .counter("comms_provider_failovers_total",
                              "Messages moved on from this provider to the next one", {"provider"})
                     .labels({provider_})) {
  auto& sends =
      registry.counter("comms_provider_sends_total", "Provider calls by outcome", {"provider", "outcome"});
  for (const char* o : kOutcomes) outcomes_[o] = &sends.labels({provider_, o});
  registry.counter("comms_provider_cost_total", "Cost of accepted messages, in currency units",
                   {"provider", "currency"});
  registry.counter("comms_provider_alerts_total", "Provider conditions an operator must fix",
                   {"provider", "reason"});
  breaker_gauge_ = registry.gauge_callback(
      "comms_provider_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open",
      [b = breaker_] { return state_value(b->state()); }, {{"provider", provider_}});
}

void ProviderStats::record(const ProviderResult& r, std::chrono::steady_clock::duration latency) {
  outcomes_.at(std::string(to_string(r.fault)))->inc();
  latency_.observe(std::chrono::duration<double>(latency).count());
  if (!r.alert.empty()) alert(r.alert);
  if (r.fault != Fault::none || r.result.currency.empty() || r.result.cost_micros <= 0) return;
  metrics::Counter* c = nullptr;
  {
    std::lock_guard lock(mu_);
    auto& slot = cost_[r.result.currency];
    if (!slot)
      slot = &registry_.counter("comms_provider_cost_total", "", {"provider", "currency"})
                  .labels({provider_, r.result.currency});
    c = slot;
  }
  c->inc(static_cast<double>(r.result.cost_micros) / 1e6);
}

void ProviderStats::short_circuited() {
  outcomes_.at("short_circuited")->inc();
}

void ProviderStats::failover() {
  failovers_.inc();
}

void ProviderStats::alert(const std::string& reason) {
  metrics::Counter* c = nullptr;
  {
    std::lock_guard lock(mu_);
    auto& slot = alerts_[reason];
    if (!slot)
      slot = &registry_.counter("comms_provider_alerts_total", "", {"provider", "reason"})
                  .labels({provider_, reason});
    c = slot;
  }
  c->inc();
}

ProviderSnapshot ProviderStats::snapshot() const {
  ProviderSnapshot s;
  s.name = provider_;
  s.channel = channel_;
  s.priority = priority_;
  s.breaker = breaker_->state();
  s.consecutive_failures = breaker_->consecutive_failures();
  s.times_opened = breaker_->times_opened();
  if (s.breaker == CircuitBreaker::State::open) {
    s.retry_in_ms = std::chrono::duration_cast<std::chrono::milliseconds>(breaker_->retry_at() -
                                                                          std::chrono::steady_clock::now())
                        .count();
    if (s.retry_in_ms < 0) s.retry_in_ms = 0;
  }
  for (const auto& [name, c] : outcomes_) s.outcomes[name] = c->value();
  s.failovers = failovers_.value();
  const auto h = latency_.snapshot();
  s.latency_count = h.count;
  s.latency_sum_seconds = h.sum;
  const auto& bounds = metrics::default_seconds_buckets();
  for (std::size_t i = 0; i < bounds.size() && i < h.cumulative.size(); ++i)
    s.latency_buckets.emplace_back(bounds[i], h.cumulative[i]);
  std::lock_guard lock(mu_);
  for (const auto& [cur, c] : cost_) s.cost[cur] = c->value();
  for (const auto& [reason, c] : alerts_) s.alerts[reason] = c->value();
  return s;
}

void ProviderMonitor::add(std::shared_ptr<ProviderStats> stats) {
  std::lock_guard lock(mu_);
  stats_.push_back(std::move(stats));
}

std::vector<ProviderSnapshot> ProviderMonitor::snapshot() const {
  std::vector<std::shared_ptr<ProviderStats>> all;
  {
    std::lock_guard lock(mu_);
    all = stats_;
  }
  std::vector<ProviderSnapshot> out;
  out.reserve(all.size());
  for (const auto& s : all) out.push_back(s->snapshot());
  return out;
}

}  // namespace comms::delivery
