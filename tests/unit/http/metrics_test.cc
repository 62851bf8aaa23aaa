// Tests for common/metrics (kept with the http tests, its first user).
#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace comms::metrics {
namespace {

TEST(Metrics, CounterAndGaugeRender) {
  Registry r;
  auto& c = r.counter("comms_sent_total", "Messages sent.", {"channel"});
  c.labels({"sms"}).inc();
  c.labels({"sms"}).inc(2);
  c.labels({"email"}).inc(0.5);
  r.gauge("comms_up", "Whether the service is up.").unlabelled().set(1);
  EXPECT_EQ(r.render(),
            "# HELP comms_sent_total Messages sent.\n"
            "# TYPE comms_sent_total counter\n"
            "comms_sent_total{channel=\"email\"} 0.5\n"
            "comms_sent_total{channel=\"sms\"} 3\n"
            "# HELP comms_up Whether the service is up.\n"
            "# TYPE comms_up gauge\n"
            "comms_up 1\n");
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.histogram("lat_seconds", "Latency.", {"route"}, {0.1, 1});
  auto& s = h.labels({"/x"});
  s.observe(0.05);
  s.observe(0.1);
  s.observe(0.5);
  s.observe(7);
  EXPECT_EQ(r.render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
            "lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{route=\"/x\"} 7.65\n"
            "lat_seconds_count{route=\"/x\"} 4\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry r;
  r.counter("x_total", "Help with \\ and\nnewline.", {"v"}).labels({"a\"b\\c\nd"}).inc();
  EXPECT_EQ(r.render(),
            "# HELP x_total Help with \\\\ and\\nnewline.\n"
            "# TYPE x_total counter\n"
            "x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, CallbackGaugesAreEvaluatedAtRenderAndUnregister) {
  Registry r;
  int depth = 3;
  {
    auto sms = r.gauge_callback("queue_depth", "Queued messages.", [&] { return double(depth); },
                                {{"channel", "sms"}});
    auto mail =
        r.gauge_callback("queue_depth", "Queued messages.", [] { return 1.0; }, {{"channel", "email"}});
    depth = 9;
    EXPECT_EQ(r.render(),
              "# HELP queue_depth Queued messages.\n"
              "# TYPE queue_depth gauge\n"
              "queue_depth{channel=\"sms\"} 9\n"
              "queue_depth{channel=\"email\"} 1\n");
  }
  EXPECT_EQ(r.render(), "");
}

TEST(Metrics, ReRegistrationReturnsTheSameFamilyOrThrows) {
  Registry r;
  auto& a = r.counter("a_total", "A.", {"x"});
  EXPECT_EQ(&a, &r.counter("a_total", "A.", {"x"}));
  EXPECT_THROW(r.gauge("a_total", "A.", {"x"}), std::invalid_argument);
  EXPECT_THROW(r.counter("a_total", "A.", {"y"}), std::invalid_argument);
  EXPECT_THROW(r.counter("bad name", "B."), std::invalid_argument);
  EXPECT_THROW(r.counter("b_total", "B.", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "H.", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h2", "H.", {}, {1, 0.5}), std::invalid_argument);
  EXPECT_THROW(a.labels({"1", "2"}), std::invalid_argument);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& fam = r.counter("n_total", "N.", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) fam.labels({i % 2 ? "odd" : "even"}).inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fam.labels({"odd"}).value() + fam.labels({"even"}).value(), 40000);
}

TEST(Metrics, SpecialValues) {
  Registry r;
  auto& g = r.gauge("g", "G.", {"k"});
  g.labels({"inf"}).set(std::numeric_limits<double>::infinity());
  g.labels({"nan"}).set(std::numeric_limits<double>::quiet_NaN());
  g.labels({"neg"}).set(-2.5);
  const std::string text = r.render();
  EXPECT_NE(text.find("g{k=\"inf\"} +Inf\n"), std::string::npos);
  EXPECT_NE(text.find("g{k=\"nan\"} NaN\n"), std::string::npos);
  EXPECT_NE(text.find("g{k=\"neg\"} -2.5\n"), std::string::npos);
}

}  // namespace
}  // namespace comms::metrics
