#include <gtest/gtest.h>

#include "delivery/dispatcher.h"

namespace comms::delivery {
namespace {

using std::chrono::milliseconds;

TEST(BackoffDelay, StaysWithinEqualJitterBounds) {
  const milliseconds base(2000), max(300000);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    const long long full = std::min<long long>(2000LL << (attempt - 1), 300000);
    for (int i = 0; i < 200; ++i) {
      const auto d = backoff_delay(attempt, base, max).count();
      EXPECT_GE(d, full / 2) << "attempt " << attempt;
      EXPECT_LE(d, full) << "attempt " << attempt;
    }
  }
}

TEST(BackoffDelay, IsCappedForHugeAttemptCounts) {
  for (int attempt : {31, 60, 1000}) {
    const auto d = backoff_delay(attempt, milliseconds(2000), milliseconds(300000)).count();
    EXPECT_GE(d, 150000);
    EXPECT_LE(d, 300000);
  }
}

TEST(BackoffDelay, Jitters) {
  std::set<long long> seen;
  for (int i = 0; i < 50; ++i)
    seen.insert(backoff_delay(3, milliseconds(2000), milliseconds(300000)).count());
  EXPECT_GT(seen.size(), 10u);
}

TEST(BackoffDelay, ZeroOrNegativeAttemptBehavesLikeTheFirst) {
  const auto d = backoff_delay(0, milliseconds(100), milliseconds(1000)).count();
  EXPECT_GE(d, 50);
  EXPECT_LE(d, 100);
}

}  // namespace
}  // namespace comms::delivery
