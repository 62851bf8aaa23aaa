// A small Prometheus metrics registry: counters, gauges, fixed-bucket histograms and callback
// gauges, each family with a fixed list of label names, rendered in the text exposition format
// 0.0.4. Hand-written because Debian 12 packages no prometheus-cpp.
//
// Ownership and threading: the app creates one Registry for the process and hands it down by
// reference (no global instance: tests build their own, and nothing depends on hidden state). It
// must outlive every user. All methods are thread-safe. Recording on a series (inc/set/observe) is
// a few relaxed atomics. Looking up a series by label values (Family::labels) takes a shared lock
// and a map lookup: hot paths look it up once and keep the reference, which stays valid for the
// registry's lifetime.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace comms::metrics {

class Counter {
 public:
  // v must be >= 0 (counters only go up).
  void inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: strictly increasing upper bounds, without +Inf; owned by the family.
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// The Prometheus default buckets, in seconds: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
const std::vector<double>& default_seconds_buckets();

class Registry;

// All series of one metric name. Label values are given in the order of the family's label names.
template <class Metric>
class Family {
 public:
  // The series for these label values, created on first use. Throws std::invalid_argument when the
  // count differs from the label names'.
  Metric& labels(std::span<const std::string_view> values);
  Metric& labels(std::initializer_list<std::string_view> values) {
    return labels(std::span<const std::string_view>(values.begin(), values.size()));
  }
  // The one series of a family without labels.
  Metric& unlabelled() { return labels(std::span<const std::string_view>()); }

 private:
  friend class Registry;
  struct Series {
    std::vector<std::string> values;
    std::unique_ptr<Metric> metric;
  };
  Family(std::vector<std::string> label_names, std::vector<double> bounds)
      : label_names_(std::move(label_names)), bounds_(std::move(bounds)) {}
  void render(std::string& out, std::string_view name) const;

  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;  // histograms only
  mutable std::shared_mutex mu_;
  std::map<std::string, Series, std::less<>> series_;  // guarded by mu_; key encodes the label values
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

// Keeps a callback gauge registered; unregisters it when destroyed. Move-only.
class CallbackGauge {
 public:
  CallbackGauge() = default;
  CallbackGauge(CallbackGauge&& o) noexcept : registry_(std::exchange(o.registry_, nullptr)), id_(o.id_) {}
  CallbackGauge& operator=(CallbackGauge&& o) noexcept;
  ~CallbackGauge();

 private:
  friend class Registry;
  CallbackGauge(Registry* r, std::uint64_t id) : registry_(r), id_(id) {}
  Registry* registry_ = nullptr;
  std::uint64_t id_ = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each returns the family of that name, created on first call. Asking again with the same type
  // and label names returns the same family; a different type or label list throws
  // std::invalid_argument, as do invalid metric or label names. Families are rendered in the order
  // they were first registered.
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> label_names,
                               std::vector<double> buckets = default_seconds_buckets());

  // A gauge whose value is fn() at render time (queue depths, pool sizes). Several callbacks may
  // share a name with different label values. fn runs on the rendering thread, must be thread-safe
  // and cheap, and must stay callable until the returned handle is destroyed.
  [[nodiscard]] CallbackGauge gauge_callback(std::string name, std::string help, std::function<double()> fn,
                                             std::vector<std::pair<std::string, std::string>> labels = {});

  // The text exposition format 0.0.4; serve it with kContentType.
  std::string render() const;
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  friend class CallbackGauge;
  struct Entry;
  Entry& entry(std::string name, std::string help, int type, const std::vector<std::string>& label_names);
  void remove_callback(std::uint64_t id);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;  // guarded by mu_; registration order
  std::uint64_t next_callback_id_ = 1;           // guarded by mu_
};

}  // namespace comms::metrics
