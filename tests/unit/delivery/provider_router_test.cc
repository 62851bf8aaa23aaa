#include "delivery/resilience/provider_router.h"

#include <gtest/gtest.h>

#include <deque>

#include "common/metrics.h"
#include "run_coro.h"

namespace comms::delivery {
namespace {

using namespace std::chrono_literals;

// A provider that answers from a script (then repeats its last answer) and records its calls.
class ScriptedProvider : public Provider {
 public:
  ScriptedProvider(std::string name, std::deque<Fault> script)
      : name_(std::move(name)), script_(std::move(script)) {}
  const std::string& name() const override { return name_; }
  boost::asio::awaitable<ProviderResult> send(const Outgoing& m) override {
    calls.push_back(m.notification_id);
    Fault f = script_.front();
    if (script_.size() > 1) script_.pop_front();
    if (f == Fault::none) {
      SendResult ok = SendResult::ok_from(name_);
      ok.provider_message_id = name_ + "-" + m.notification_id;
      co_return ProviderResult::ok(ok);
    }
    co_return ProviderResult::failed(f, name_, name_ + " says " + std::string(to_string(f)));
  }
  void stop() override {}
  std::vector<std::string> calls;

 private:
  std::string name_;
  std::deque<Fault> script_;
};

struct Fixture {
  metrics::Registry registry;
  CircuitBreaker::TimePoint now{std::chrono::seconds(100)};
  ProviderMonitor monitor;
  std::vector<std::shared_ptr<ScriptedProvider>> providers;
  std::vector<std::shared_ptr<CircuitBreaker>> breakers;

  std::unique_ptr<ProviderRouter> router(std::vector<std::deque<Fault>> scripts, int failures = 5) {
    std::vector<ProviderRoute> routes;
    int i = 0;
    for (auto& s : scripts) {
      auto p = std::make_shared<ScriptedProvider>(i == 0 ? "primary" : "secondary" + std::to_string(i), s);
      auto b = std::make_shared<CircuitBreaker>(failures, 30s, [this] { return now; });
      auto st = std::make_shared<ProviderStats>(registry, p->name(), domain::Channel::sms, ++i, b);
      monitor.add(st);
      providers.push_back(p);
      breakers.push_back(b);
      routes.push_back({p, b, st});
    }
    RouterOptions o;
    o.clock = [this] { return now; };
    return std::make_unique<ProviderRouter>(domain::Channel::sms, routes, o);
  }
};

Outgoing msg(std::string id) {
  Outgoing m;
  m.notification_id = std::move(id);
  m.to = "+260971234567";
  m.text = "hello";
  return m;
}

SendResult send(ProviderRouter& r, const Outgoing& m) {
  return test::run_coro(r.send(m));
}

TEST(ProviderRouter, UsesThePrimaryWhenItWorks) {
  Fixture f;
  auto r = f.router({{Fault::none}, {Fault::none}});
  const auto res = send(*r, msg("n1"));
  EXPECT_EQ(res.kind, SendResult::Kind::ok);
  EXPECT_EQ(res.provider, "primary");
  EXPECT_EQ(res.provider_message_id, "primary-n1");
  EXPECT_TRUE(f.providers[1]->calls.empty());
}

TEST(ProviderRouter, FailsOverInOrderOnTransientFailure) {
  Fixture f;
  auto r = f.router({{Fault::unavailable}, {Fault::unroutable}, {Fault::none}});
  const auto res = send(*r, msg("n1"));
  EXPECT_EQ(res.kind, SendResult::Kind::ok);
  EXPECT_EQ(res.provider, "secondary2");
  EXPECT_EQ(f.providers[0]->calls.size(), 1u);
  EXPECT_EQ(f.providers[1]->calls.size(), 1u);
  const auto snap = f.monitor.snapshot();
  EXPECT_EQ(snap[0].failovers, 1);
  EXPECT_EQ(snap[0].outcomes.at("unavailable"), 1);
  EXPECT_EQ(snap[2].outcomes.at("ok"), 1);
}

TEST(ProviderRouter, PermanentFailureStopsAtOnce) {
  Fixture f;
  auto r = f.router({{Fault::rejected}, {Fault::none}});
  const auto res = send(*r, msg("n1"));
  EXPECT_EQ(res.kind, SendResult::Kind::permanent);
  EXPECT_EQ(res.provider, "primary");
  EXPECT_EQ(res.error, "primary says rejected");
  EXPECT_TRUE(f.providers[1]->calls.empty());
}

TEST(ProviderRouter, AllUnavailableIsTransientWithEveryReason) {
  Fixture f;
  auto r = f.router({{Fault::unavailable}, {Fault::unavailable}});
  const auto res = send(*r, msg("n1"));
  EXPECT_EQ(res.kind, SendResult::Kind::transient);
  EXPECT_EQ(res.error, "primary: primary says unavailable; secondary1: secondary1 says unavailable");
}

TEST(ProviderRouter, OpenBreakerSkipsTheProviderUntilTheProbe) {
  Fixture f;
  auto r = f.router({{Fault::unavailable, Fault::unavailable, Fault::none}, {Fault::none}}, 2);
  send(*r, msg("n1"));
  send(*r, msg("n2"));
  ASSERT_EQ(f.breakers[0]->state(), CircuitBreaker::State::open);
  const auto res = send(*r, msg("n3"));
  EXPECT_EQ(res.provider, "secondary1");
  EXPECT_EQ(f.providers[0]->calls.size(), 2u) << "open breaker fails fast";
  EXPECT_EQ(f.monitor.snapshot()[0].outcomes.at("short_circuited"), 1);
  f.now += 30s;
  const auto probe = send(*r, msg("n4"));
  EXPECT_EQ(probe.provider, "primary");
  EXPECT_EQ(f.breakers[0]->state(), CircuitBreaker::State::closed);
}

TEST(ProviderRouter, AllBreakersOpenIsTransient) {
  Fixture f;
  auto r = f.router({{Fault::unavailable}}, 1);
  send(*r, msg("n1"));
  const auto res = send(*r, msg("n2"));
  EXPECT_EQ(res.kind, SendResult::Kind::transient);
  EXPECT_EQ(res.error, "primary: circuit open");
  EXPECT_EQ(f.providers[0]->calls.size(), 1u);
}

TEST(ProviderRouter, AmbiguousFailureIsNeverResentThroughTheSameProvider) {
  Fixture f;
  auto r = f.router({{Fault::ambiguous, Fault::none}, {Fault::unavailable, Fault::none}});
  auto first = send(*r, msg("n1"));
  EXPECT_EQ(first.kind, SendResult::Kind::transient);
  // The dispatcher retries later: the primary is skipped for n1, and only for n1.
  auto second = send(*r, msg("n1"));
  EXPECT_EQ(second.kind, SendResult::Kind::ok);
  EXPECT_EQ(second.provider, "secondary1");
  EXPECT_EQ(f.providers[0]->calls, std::vector<std::string>{"n1"});
  auto other = send(*r, msg("n2"));
  EXPECT_EQ(other.provider, "primary");
}

TEST(ProviderRouter, AmbiguousEverywhereFailsPermanentlyAndForgets) {
  Fixture f;
  auto r = f.router({{Fault::ambiguous, Fault::none}});
  const auto res = send(*r, msg("n1"));
  EXPECT_EQ(res.kind, SendResult::Kind::permanent);
  EXPECT_NE(res.error.find("not re-sent"), std::string::npos) << res.error;
  // An operator's re-drive starts afresh.
  EXPECT_EQ(send(*r, msg("n1")).kind, SendResult::Kind::ok);
}

TEST(ProviderRouter, AmbiguityLedgerExpires) {
  Fixture f;
  auto r = f.router({{Fault::ambiguous, Fault::none}, {Fault::unavailable}});
  send(*r, msg("n1"));
  f.now += 3601s;
  EXPECT_EQ(send(*r, msg("n1")).provider, "primary");
}

TEST(ProviderRouter, NeedsAtLeastOneRoute) {
  EXPECT_THROW(ProviderRouter(domain::Channel::sms, {}), std::invalid_argument);
}

}  // namespace
}  // namespace comms::delivery
