#include "redis/health.h"

#include "common/log.h"

namespace comms::redis {

Health::Health(metrics::Registry& registry, std::string redacted_url)
    : url_(std::move(redacted_url)),
      up_gauge_(registry.gauge("comms_redis_up", "1 when Redis answered the last call, 0 when it did not").unlabelled()),
      errors_(registry.counter("comms_redis_errors_total",
                               "Redis calls that failed (unreachable, timed out, dropped), by user", {"op"})) {}

void Health::ok(std::chrono::steady_clock::time_point started) {
  if (state_.load() == State::up) return;
  {
    std::lock_guard lock(mu_);
    if (started < last_failure_) return;
  }
  if (state_.exchange(State::up) == State::up) return;
  up_gauge_.set(1);
  log::info("redis_up", {{"url", url_}});
  std::vector<std::function<void()>> listeners;
  {
    std::lock_guard lock(mu_);
    listeners = on_up_;
  }
  for (auto& l : listeners) l();
}

void Health::failed(std::string_view op, std::string_view error) {
  count_error(op);
  {
    std::lock_guard lock(mu_);
    last_error_ = error;
    last_failure_ = std::chrono::steady_clock::now();
  }
  if (state_.load() == State::down) return;
  if (state_.exchange(State::down) == State::down) return;
  up_gauge_.set(0);
  log::warn("redis_down", {{"url", url_}, {"op", op}, {"error", error}});
}

void Health::count_error(std::string_view op) { errors_.labels({op}).inc(); }

std::string Health::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void Health::on_up(std::function<void()> listener) {
  std::lock_guard lock(mu_);
  on_up_.push_back(std::move(listener));
}

}  // namespace comms::redis
