#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace comms::metrics {
namespace {

enum Type { kCounter, kGauge, kHistogram, kCallback };

std::string_view type_name(int t) {
  switch (t) {
    case kCounter:
      return "counter";
    case kHistogram:
      return "histogram";
    default:
      return "gauge";
  }
}

bool valid_name(std::string_view s, bool label) {
  if (s.empty()) return false;
  if (label && s.starts_with("__")) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const bool integral = v == std::trunc(v) && std::fabs(v) < 9.0e15;
    const auto res = integral ? std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v))
                              : std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
  }
}

void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// {a="x",b="y"} plus an optional extra pair (the histogram's le); nothing when there are no labels.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    append_escaped(out, values[i], true);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, std::string_view name, std::string_view help, int type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type_name(type);
  out += '\n';
}

// Map key for a list of label values that sorts like the list itself: values joined by '\0', with
// '\0' and '\1' inside values escaped behind '\1'.
void encode_key(std::string& key, std::span<const std::string_view> values) {
  key.clear();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) key += '\0';
    for (char c : values[i]) {
      if (c == '\0' || c == '\1') key += '\1';
      key += c;
    }
  }
}

template <class Metric>
std::unique_ptr<Metric> make_metric(const std::vector<double>& bounds) {
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return std::make_unique<Histogram>(bounds);
  } else {
    return std::make_unique<Metric>();
  }
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::observe(double v) {
  const std::size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  // Concurrent observes may land between the loads; the +Inf bucket and the count must agree.
  s.count = running;
  return s;
}

const std::vector<double>& default_seconds_buckets() {
  static const std::vector<double> b{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
  return b;
}

template <class Metric>
Metric& Family<Metric>::labels(std::span<const std::string_view> values) {
  if (values.size() != label_names_.size()) throw std::invalid_argument("metric label count mismatch");
  thread_local std::string key;
  encode_key(key, values);
  {
    std::shared_lock lock(mu_);
    if (auto it = series_.find(key); it != series_.end()) return *it->second.metric;
  }
  std::unique_lock lock(mu_);
  auto [it, inserted] = series_.try_emplace(key);
  if (inserted) {
    it->second.values.assign(values.begin(), values.end());
    it->second.metric = make_metric<Metric>(bounds_);
  }
  return *it->second.metric;
}

template <class Metric>
void Family<Metric>::render(std::string& out, std::string_view name) const {
  std::shared_lock lock(mu_);
  for (const auto& [key, s] : series_) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      const Histogram::Snapshot snap = s.metric->snapshot();
      const std::string bucket_name = std::string(name) + "_bucket";
      for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        std::string le;
        if (i < bounds_.size()) {
          append_value(le, bounds_[i]);
        } else {
          le = "+Inf";
        }
        out += bucket_name;
        append_labels(out, label_names_, s.values, "le", le);
        out += ' ';
        append_value(out, static_cast<double>(snap.cumulative[i]));
        out += '\n';
      }
      out += name;
      out += "_sum";
      append_labels(out, label_names_, s.values);
      out += ' ';
      append_value(out, snap.sum);
      out += '\n';
      out += name;
      out += "_count";
      append_labels(out, label_names_, s.values);
      out += ' ';
      append_value(out, static_cast<double>(snap.count));
      out += '\n';
    } else {
      out += name;
      append_labels(out, label_names_, s.values);
      out += ' ';
      append_value(out, s.metric->value());
      out += '\n';
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

struct Registry::Entry {
  struct Callback {
    std::uint64_t id;
    std::vector<std::string> values;
    std::function<double()> fn;
  };
  std::string name;
  std::string help;
  int type;
  std::vector<std::string> label_names;
  std::unique_ptr<Family<Counter>> counters;
  std::unique_ptr<Family<Gauge>> gauges;
  std::unique_ptr<Family<Histogram>> histograms;
  std::vector<Callback> callbacks;  // guarded by Registry::mu_
};

CallbackGauge& CallbackGauge::operator=(CallbackGauge&& o) noexcept {
  if (this != &o) {
    if (registry_) registry_->remove_callback(id_);
    registry_ = std::exchange(o.registry_, nullptr);
    id_ = o.id_;
  }
  return *this;
}

CallbackGauge::~CallbackGauge() {
  if (registry_) registry_->remove_callback(id_);
}

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Entry& Registry::entry(std::string name, std::string help, int type,
                                 const std::vector<std::string>& label_names) {
  // REQUIRES: mu_ held.
  if (!valid_name(name, false)) throw std::invalid_argument("invalid metric name: " + name);
  for (const auto& l : label_names) {
    if (!valid_name(l, true) || (type == kHistogram && l == "le")) {
      throw std::invalid_argument("invalid label name '" + l + "' for " + name);
    }
  }
  for (auto& e : entries_) {
    if (e->name != name) continue;
    if (e->type != type || e->label_names != label_names) {
      throw std::invalid_argument("metric " + name + " re-registered with another type or labels");
    }
    return *e;
  }
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = type;
  e->label_names = label_names;
  entries_.push_back(std::move(e));
  return *entries_.back();
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = entry(std::move(name), std::move(help), kCounter, label_names);
  if (!e.counters) e.counters.reset(new Family<Counter>(std::move(label_names), {}));
  return *e.counters;
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  Entry& e = entry(std::move(name), std::move(help), kGauge, label_names);
  if (!e.gauges) e.gauges.reset(new Family<Gauge>(std::move(label_names), {}));
  return *e.gauges;
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> label_names, std::vector<double> buckets) {
  if (buckets.empty() || !std::is_sorted(buckets.begin(), buckets.end()) ||
      std::adjacent_find(buckets.begin(), buckets.end()) != buckets.end() || std::isinf(buckets.back())) {
    throw std::invalid_argument("histogram " + name + " needs strictly increasing finite buckets");
  }
  std::lock_guard lock(mu_);
  Entry& e = entry(std::move(name), std::move(help), kHistogram, label_names);
  if (!e.histograms) {
    e.histograms.reset(new Family<Histogram>(std::move(label_names), std::move(buckets)));
  } else if (e.histograms->bounds_ != buckets) {
    throw std::invalid_argument("histogram " + e.name + " re-registered with other buckets");
  }
  return *e.histograms;
}

CallbackGauge Registry::gauge_callback(std::string name, std::string help, std::function<double()> fn,
                                       std::vector<std::pair<std::string, std::string>> labels) {
  std::vector<std::string> names;
  std::vector<std::string> values;
  for (auto& [k, v] : labels) {
    names.push_back(std::move(k));
    values.push_back(std::move(v));
  }
  std::lock_guard lock(mu_);
  Entry& e = entry(std::move(name), std::move(help), kCallback, names);
  const std::uint64_t id = next_callback_id_++;
  e.callbacks.push_back({id, std::move(values), std::move(fn)});
  return CallbackGauge(this, id);
}

void Registry::remove_callback(std::uint64_t id) {
  std::lock_guard lock(mu_);
  for (auto& e : entries_) {
    std::erase_if(e->callbacks, [id](const Entry::Callback& c) { return c.id == id; });
  }
}

std::string Registry::render() const {
  std::vector<const Entry*> entries;
  std::vector<std::vector<Entry::Callback>> callbacks;
  {
    std::lock_guard lock(mu_);
    for (const auto& e : entries_) {
      entries.push_back(e.get());
      callbacks.push_back(e->callbacks);
    }
  }
  std::string out;
  out.reserve(4096);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = *entries[i];
    if (e.type == kCallback && callbacks[i].empty()) continue;
    append_header(out, e.name, e.help, e.type);
    if (e.counters) e.counters->render(out, e.name);
    if (e.gauges) e.gauges->render(out, e.name);
    if (e.histograms) e.histograms->render(out, e.name);
    for (const auto& cb : callbacks[i]) {
      out += e.name;
      append_labels(out, e.label_names, cb.values);
      out += ' ';
      append_value(out, cb.fn());
      out += '\n';
    }
  }
  return out;
}

}  // namespace comms::metrics
