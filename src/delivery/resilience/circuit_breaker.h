// A per-provider circuit breaker (the seed's Polly policy): opens after N
// consecutive failures, fails fast while open, lets exactly one probe through
// once the open period has passed (half-open), and closes again when the probe
// succeeds (or re-opens when it fails).
//
// Callers ask for a Permit before each call and report the call's outcome with
// that permit. A permit remembers which "generation" of the breaker it came
// from, so an outcome that arrives late (a call started before the breaker
// opened) neither closes an open breaker nor counts twice.
//
// Thread-safety: all methods may be called concurrently. The clock is
// injectable for tests; it must be monotonic.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>

namespace comms::delivery {

class CircuitBreaker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Clock = std::function<TimePoint()>;
  enum class State { closed, open, half_open };

  struct Permit {
    bool allowed = false;
    bool probe = false;  // the one half-open trial call
    std::uint64_t generation = 0;
  };

  // `failure_threshold` >= 1; `open_for` is how long the breaker stays open before a probe.
  CircuitBreaker(int failure_threshold, std::chrono::milliseconds open_for, Clock clock = {});

  // May a call go ahead now? Open: no, until open_for has passed; then exactly
  // one caller gets a probe permit and the breaker is half-open until that
  // probe reports.
  Permit acquire();
  void on_success(const Permit& p);
  void on_failure(const Permit& p);
  // The call says nothing about the provider's health (e.g. one unroutable
  // number): a probe slot is released, nothing is counted.
  void on_neutral(const Permit& p);

  // The state as a caller would see it now: an open breaker whose period has
  // passed reports half_open (the next acquire() gets the probe).
  State state() const;
  int consecutive_failures() const;
  // When an open breaker lets its next probe through (time_since_epoch 0 when not open).
  TimePoint retry_at() const;
  std::uint64_t times_opened() const;

 private:
  void open_locked(TimePoint now);  // REQUIRES: mu_ held

  const int threshold_;
  const std::chrono::milliseconds open_for_;
  const Clock clock_;
  mutable std::mutex mu_;
  State state_ = State::closed;   // guarded by mu_
  int failures_ = 0;              // guarded by mu_; consecutive, while closed
  bool probe_in_flight_ = false;  // guarded by mu_
  std::uint64_t generation_ = 0;  // guarded by mu_; bumped on every state change
  std::uint64_t opened_ = 0;      // guarded by mu_
  TimePoint retry_at_{};          // guarded by mu_
};

std::string_view to_string(CircuitBreaker::State s);

}  // namespace comms::delivery
