#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "store_test.h"

namespace comms::store::testing {
namespace {

using domain::Notification;
using domain::Status;

class ClaimTest : public StoreTest {
 protected:
  std::vector<Notification> insert_due(int n, Millis due) {
    std::vector<Notification> rows;
    for (int i = 0; i < n; ++i) {
      Notification x = sample_notification();
      x.next_attempt_at = due;
      rows.push_back(x);
    }
    write([&](UnitOfWork& u) {
      for (auto& x : rows) u.notifications().insert(x);
    });
    return rows;
  }
};
COMMS_STORE_BACKENDS(ClaimTest);

TEST_P(ClaimTest, ClaimsDueRowsInPriorityThenDueOrder) {
  std::vector<Notification> rows;
  write([&](UnitOfWork& u) {
    auto add = [&](int priority, Millis due, Status s = Status::pending) {
      Notification n = sample_notification();
      n.priority = priority;
      n.next_attempt_at = due;
      n.status = s;
      u.notifications().insert(n);
      rows.push_back(n);
    };
    add(0, 100);                // [0]
    add(5, 300);                // [1]
    add(5, 200);                // [2]
    add(9, 5000);               // [3] not yet due
    add(1, 100, Status::sent);  // [4] not Pending
  });

  std::vector<Notification> claimed;
  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(1000, 10, 30'000); });
  ASSERT_EQ(claimed.size(), 3u);
  EXPECT_EQ(claimed[0].id, rows[2].id);
  EXPECT_EQ(claimed[1].id, rows[1].id);
  EXPECT_EQ(claimed[2].id, rows[0].id);
  for (const auto& n : claimed) {
    EXPECT_EQ(n.status, Status::sending);
    EXPECT_EQ(n.lease_until, 31'000);
    EXPECT_EQ(n.version, 2);
  }

  std::optional<Notification> stored;
  read([&](UnitOfWork& u) { stored = u.notifications().get(rows[2].id); });
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->status, Status::sending);
  EXPECT_EQ(stored->lease_until, 31'000);
  EXPECT_EQ(stored->version, 2);

  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(1000, 10, 30'000); });
  EXPECT_TRUE(claimed.empty());
}

TEST_P(ClaimTest, RespectsLimit) {
  insert_due(5, 10);
  std::vector<Notification> claimed;
  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(100, 2, 1000); });
  EXPECT_EQ(claimed.size(), 2u);
  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(100, 0, 1000); });
  EXPECT_TRUE(claimed.empty());
  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(100, 10, 1000); });
  EXPECT_EQ(claimed.size(), 3u);
}

TEST_P(ClaimTest, ExpiredLeaseIsClaimedAgain) {
  const auto rows = insert_due(1, 100);
  std::vector<Notification> claimed;
  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(1000, 10, 500); });
  ASSERT_EQ(claimed.size(), 1u);  // lease until 1500

  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(1400, 10, 500); });
  EXPECT_TRUE(claimed.empty());
  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(1500, 10, 500); });
  EXPECT_TRUE(claimed.empty()) << "a lease is held up to and including lease_until";
  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(1501, 10, 500); });
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, rows[0].id);
  EXPECT_EQ(claimed[0].lease_until, 2001);
  EXPECT_EQ(claimed[0].version, 3);
}

TEST_P(ClaimTest, ConcurrentClaimantsNeverShareARow) {
  constexpr int kRows = 400;
  constexpr int kThreads = 8;
  insert_due(kRows, 10);

  std::mutex mu;
  std::map<std::string, int> times_claimed;  // guarded by mu
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        std::vector<Notification> got;
        try {
          write_sync(*store_, [&](UnitOfWork& u) { got = u.notifications().claim_due(100, 7, 60'000); });
        } catch (...) {
          ++errors;
          return;
        }
        if (got.empty()) return;
        std::lock_guard lock(mu);
        for (const auto& n : got) ++times_claimed[n.id];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(times_claimed.size(), static_cast<std::size_t>(kRows));
  for (const auto& [id, times] : times_claimed) EXPECT_EQ(times, 1) << id;
}

TEST_P(ClaimTest, ReleaseAllClaimsReturnsSendingRowsToPending) {
  if (is_postgres()) GTEST_SKIP() << "shared database: see ReleaseAllClaimsLeavesOtherInstancesClaimsAlone";
  insert_due(3, 10);
  Notification sent = sample_notification();
  sent.status = Status::sent;
  write([&](UnitOfWork& u) { u.notifications().insert(sent); });
  write([&](UnitOfWork& u) { u.notifications().claim_due(100, 2, 60'000); });

  int released = -1;
  write([&](UnitOfWork& u) { released = u.notifications().release_all_claims(); });
  EXPECT_EQ(released, 2);

  std::int64_t due = 0;
  std::map<std::pair<domain::Channel, Status>, std::int64_t> by;
  read([&](UnitOfWork& u) {
    due = u.notifications().count_due(100);
    by = u.notifications().count_by_channel_status();
  });
  EXPECT_EQ(due, 3);
  EXPECT_EQ((by[{domain::Channel::email, Status::sending}]), 0);
  EXPECT_EQ((by[{domain::Channel::email, Status::sent}]), 1);

  write([&](UnitOfWork& u) { released = u.notifications().release_all_claims(); });
  EXPECT_EQ(released, 0);
}

TEST_P(ClaimTest, ReleaseAllClaimsLeavesOtherInstancesClaimsAlone) {
  if (!is_postgres())
    GTEST_SKIP() << "embedded single-instance store: see ReleaseAllClaimsReturnsSendingRowsToPending";
  insert_due(3, 10);
  write([&](UnitOfWork& u) { u.notifications().claim_due(100, 2, 60'000); });
  int released = -1;
  write([&](UnitOfWork& u) { released = u.notifications().release_all_claims(); });
  EXPECT_EQ(released, 0);
  std::map<std::pair<domain::Channel, Status>, std::int64_t> by;
  read([&](UnitOfWork& u) { by = u.notifications().count_by_channel_status(); });
  EXPECT_EQ((by[{domain::Channel::email, Status::sending}]), 2)
      << "in-flight claims stay until their lease ends";
  std::vector<Notification> claimed;
  write([&](UnitOfWork& u) { claimed = u.notifications().claim_due(60'101, 10, 1000); });
  EXPECT_EQ(claimed.size(), 3u) << "expired leases are claimed again";
}

}  // namespace
}  // namespace comms::store::testing
