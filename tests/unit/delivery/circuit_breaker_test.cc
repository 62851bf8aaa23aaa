#include "delivery/resilience/circuit_breaker.h"

#include <gtest/gtest.h>

namespace comms::delivery {
namespace {

using namespace std::chrono_literals;
using State = CircuitBreaker::State;

struct FakeClock {
  CircuitBreaker::TimePoint now{std::chrono::seconds(1000)};
  CircuitBreaker::Clock fn() {
    return [this] { return now; };
  }
};

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresOnly) {
  FakeClock clock;
  CircuitBreaker b(5, 30s, clock.fn());
  for (int i = 0; i < 4; ++i) b.on_failure(b.acquire());
  b.on_success(b.acquire());  // resets the run
  EXPECT_EQ(b.consecutive_failures(), 0);
  for (int i = 0; i < 4; ++i) b.on_failure(b.acquire());
  EXPECT_EQ(b.state(), State::closed);
  b.on_failure(b.acquire());
  EXPECT_EQ(b.state(), State::open);
  EXPECT_EQ(b.times_opened(), 1u);
}

TEST(CircuitBreaker, FailsFastWhileOpenThenLetsOneProbeThrough) {
  FakeClock clock;
  CircuitBreaker b(1, 30s, clock.fn());
  b.on_failure(b.acquire());
  EXPECT_FALSE(b.acquire().allowed);
  clock.now += 29s;
  EXPECT_FALSE(b.acquire().allowed);
  EXPECT_EQ(b.state(), State::open);
  clock.now += 1s;
  EXPECT_EQ(b.state(), State::half_open);
  const auto probe = b.acquire();
  EXPECT_TRUE(probe.allowed);
  EXPECT_TRUE(probe.probe);
  EXPECT_FALSE(b.acquire().allowed) << "only one probe at a time";
  b.on_success(probe);
  EXPECT_EQ(b.state(), State::closed);
  EXPECT_TRUE(b.acquire().allowed);
}

TEST(CircuitBreaker, FailedProbeReopensForAnotherPeriod) {
  FakeClock clock;
  CircuitBreaker b(2, 10s, clock.fn());
  b.on_failure(b.acquire());
  b.on_failure(b.acquire());
  clock.now += 10s;
  const auto probe = b.acquire();
  ASSERT_TRUE(probe.probe);
  b.on_failure(probe);
  EXPECT_EQ(b.state(), State::open);
  EXPECT_EQ(b.times_opened(), 2u);
  clock.now += 9s;
  EXPECT_FALSE(b.acquire().allowed);
  clock.now += 1s;
  EXPECT_TRUE(b.acquire().probe);
}

TEST(CircuitBreaker, NeutralOutcomeReleasesTheProbeSlot) {
  FakeClock clock;
  CircuitBreaker b(1, 1s, clock.fn());
  b.on_failure(b.acquire());
  clock.now += 1s;
  const auto probe = b.acquire();
  b.on_neutral(probe);
  EXPECT_EQ(b.state(), State::half_open);
  EXPECT_TRUE(b.acquire().probe);
}

TEST(CircuitBreaker, LateOutcomesFromBeforeTheTripAreIgnored) {
  FakeClock clock;
  CircuitBreaker b(2, 5s, clock.fn());
  const auto early = b.acquire();  // started while closed, answers late
  b.on_failure(b.acquire());
  b.on_failure(b.acquire());
  ASSERT_EQ(b.state(), State::open);
  b.on_success(early);
  EXPECT_EQ(b.state(), State::open) << "a stale success must not close an open breaker";
  clock.now += 5s;
  const auto probe = b.acquire();
  b.on_failure(early);
  EXPECT_EQ(b.state(), State::half_open) << "a stale failure is not the probe's result";
  b.on_success(probe);
  EXPECT_EQ(b.state(), State::closed);
}

TEST(CircuitBreaker, RetryAtIsSetOnlyWhileOpen) {
  FakeClock clock;
  CircuitBreaker b(1, 30s, clock.fn());
  EXPECT_EQ(b.retry_at(), CircuitBreaker::TimePoint{});
  b.on_failure(b.acquire());
  EXPECT_EQ(b.retry_at(), clock.now + 30s);
  EXPECT_EQ(to_string(b.state()), "open");
}

}  // namespace
}  // namespace comms::delivery
