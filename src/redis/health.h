// Whether Redis is reachable, as the client's workers and the subscriber last saw it, with the
// metrics every Redis user shares (comms_redis_up, comms_redis_errors_total{op}).
//
// A state change is logged once (redis_down with the error, redis_up), never per call. Listeners
// registered with on_up() run on every change to up, on the thread that saw it; they must not
// block (they may submit Client jobs).
//
// Thread-safety: every method may be called from any thread. The registry must outlive it.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.h"

namespace comms::redis {

class Health {
 public:
  Health(metrics::Registry& registry, std::string redacted_url);

  // A call that started at `started` reached Redis and it answered. One that started before the
  // last failure does not count: its answer may predate the outage.
  void ok(std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now());
  // `op` (a metric label: cache, backplane, rate_limit, subscriber) could not reach Redis.
  void failed(std::string_view op, std::string_view error);
  // Counts an error of `op` without changing the state (e.g. a job that waited too long in the queue).
  void count_error(std::string_view op);

  bool up() const { return state_.load() == State::up; }
  std::string last_error() const;
  void on_up(std::function<void()> listener);

 private:
  enum class State { unknown, up, down };

  const std::string url_;  // redacted
  std::atomic<State> state_{State::unknown};
  metrics::Gauge& up_gauge_;
  metrics::Family<metrics::Counter>& errors_;
  mutable std::mutex mu_;
  std::string last_error_;                       // guarded by mu_
  std::chrono::steady_clock::time_point last_failure_{};  // guarded by mu_
  std::vector<std::function<void()>> on_up_;  // guarded by mu_
};

}  // namespace comms::redis
