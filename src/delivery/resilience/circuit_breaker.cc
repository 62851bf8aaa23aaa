#include "delivery/resilience/circuit_breaker.h"

#include <algorithm>
#include <cassert>

namespace comms::delivery {

CircuitBreaker::CircuitBreaker(int failure_threshold, std::chrono::milliseconds open_for, Clock clock)
    : threshold_(std::max(1, failure_threshold)),
      open_for_(open_for),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

CircuitBreaker::Permit CircuitBreaker::acquire() {
  std::lock_guard lock(mu_);
  switch (state_) {
    case State::closed:
      return {true, false, generation_};
    case State::open:
      if (clock_() < retry_at_) return {false, false, generation_};
      state_ = State::half_open;
      ++generation_;
      probe_in_flight_ = true;
      return {true, true, generation_};
    case State::half_open:
      if (probe_in_flight_) return {false, false, generation_};
      probe_in_flight_ = true;
      return {true, true, generation_};
  }
  return {};
}

void CircuitBreaker::open_locked(TimePoint now) {
  state_ = State::open;
  ++generation_;
  ++opened_;
  failures_ = 0;
  probe_in_flight_ = false;
  retry_at_ = now + open_for_;
}

void CircuitBreaker::on_success(const Permit& p) {
  std::lock_guard lock(mu_);
  if (!p.allowed || p.generation != generation_) return;
  if (p.probe) {
    assert(state_ == State::half_open);
    state_ = State::closed;
    ++generation_;
    probe_in_flight_ = false;
  }
  failures_ = 0;
}

void CircuitBreaker::on_failure(const Permit& p) {
  std::lock_guard lock(mu_);
  if (!p.allowed || p.generation != generation_) return;
  if (p.probe) {
    open_locked(clock_());
    return;
  }
  if (++failures_ >= threshold_) open_locked(clock_());
}

void CircuitBreaker::on_neutral(const Permit& p) {
  std::lock_guard lock(mu_);
  if (p.allowed && p.probe && p.generation == generation_) probe_in_flight_ = false;
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  if (state_ == State::open && clock_() >= retry_at_) return State::half_open;
  return state_;
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

CircuitBreaker::TimePoint CircuitBreaker::retry_at() const {
  std::lock_guard lock(mu_);
  return state_ == State::open ? retry_at_ : TimePoint{};
}

std::uint64_t CircuitBreaker::times_opened() const {
  std::lock_guard lock(mu_);
  return opened_;
}

std::string_view to_string(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::closed:
      return "closed";
    case CircuitBreaker::State::open:
      return "open";
    case CircuitBreaker::State::half_open:
      return "half_open";
  }
  return "closed";
}

}  // namespace comms::delivery
