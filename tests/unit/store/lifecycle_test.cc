#include <atomic>
#include <thread>

#include "store_test.h"

namespace comms::store::testing {
namespace {

using domain::Notification;

using LifecycleTest = StoreTest;
COMMS_STORE_BACKENDS(LifecycleTest);

std::int64_t count_notifications(Store& s) {
  std::int64_t total = -1;
  read_sync(s, [&](UnitOfWork& u) { total = u.notifications().query({}).total; });
  return total;
}

TEST_P(LifecycleTest, MigrateIsIdempotentAndSchemaIsLatest) {
  const auto [current, latest] = store_->schema_version();
  EXPECT_GE(latest, 3);
  EXPECT_EQ(current, latest);
  EXPECT_EQ(store_->migrate(), 0);
  EXPECT_EQ(store_->migrate(), 0);
  EXPECT_EQ(store_->schema_version(), std::make_pair(latest, latest));

  auto second = open();
  EXPECT_EQ(second->migrate(), 0);
  EXPECT_EQ(second->schema_version(), std::make_pair(latest, latest));
}

TEST_P(LifecycleTest, PingAndBackendName) {
  EXPECT_TRUE(store_->ping());
  EXPECT_TRUE(store_->backend() == "sqlite" || store_->backend() == "postgres");
  EXPECT_EQ(store_->backend(), GetParam().name);
}

TEST_P(LifecycleTest, DataSurvivesCloseAndReopen) {
  Notification n = sample_notification();
  write([&](UnitOfWork& u) {
    u.notifications().insert(n);
    u.processed_events().add("e-durable", "LoanApproved", 5);
  });
  reopen();
  EXPECT_EQ(store_->migrate(), 0);
  std::optional<Notification> got;
  bool seen = false;
  read([&](UnitOfWork& u) {
    got = u.notifications().get(n.id);
    seen = u.processed_events().exists("e-durable");
  });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->content, n.content);
  EXPECT_EQ(got->version, 1);
  EXPECT_TRUE(seen);
}

TEST_P(LifecycleTest, CloseFinishesEverythingAlreadySubmitted) {
  constexpr int kUnits = 500;
  std::atomic<int> ok{0}, failed{0};
  for (int i = 0; i < kUnits; ++i) {
    Notification n = sample_notification("r", i);
    store_->submit_write([n](UnitOfWork& u) mutable { u.notifications().insert(n); },
                         [&](std::exception_ptr e) { ++(e ? failed : ok); });
  }
  for (int i = 0; i < 50; ++i)
    store_->submit_read([](UnitOfWork& u) { u.notifications().count_due(0); },
                        [&](std::exception_ptr e) { ++(e ? failed : ok); });
  store_->close();
  EXPECT_EQ(ok.load(), kUnits + 50);
  EXPECT_EQ(failed.load(), 0);

  reopen();
  EXPECT_EQ(count_notifications(*store_), kUnits);
}

TEST_P(LifecycleTest, CloseWhileSubmittersAreBusyLosesNothingAccepted) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  std::atomic<int> committed{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        Notification n = sample_notification("busy", i);
        store_->submit_write([n](UnitOfWork& u) mutable { u.notifications().insert(n); },
                             [&](std::exception_ptr e) {
                               if (!e) return void(++committed);
                               try {
                                 std::rethrow_exception(e);
                               } catch (const StoreError& ex) {
                                 ++(std::string(ex.what()) == "store closed" ? refused : other);
                               } catch (...) {
                                 ++other;
                               }
                             });
      }
    });
  }
  while (committed.load() < 100) std::this_thread::yield();
  store_->close();
  for (auto& t : threads) t.join();
  EXPECT_EQ(committed + refused, kThreads * kPerThread);
  EXPECT_EQ(other.load(), 0);

  reopen();
  EXPECT_EQ(count_notifications(*store_), committed.load());
}

TEST_P(LifecycleTest, AfterCloseEverythingIsRefused) {
  store_->close();
  store_->close();  // idempotent

  std::exception_ptr write_error, read_error;
  store_->submit_write([](UnitOfWork&) {}, [&](std::exception_ptr e) { write_error = e; });
  store_->submit_read([](UnitOfWork&) {}, [&](std::exception_ptr e) { read_error = e; });
  ASSERT_TRUE(write_error);  // refused at once, on this thread
  ASSERT_TRUE(read_error);
  try {
    std::rethrow_exception(write_error);
  } catch (const StoreError& e) {
    EXPECT_STREQ(e.what(), "store closed");
  }
  EXPECT_THROW(std::rethrow_exception(read_error), StoreError);
  EXPECT_THROW(write([](UnitOfWork&) {}), StoreError);
  EXPECT_THROW(read([](UnitOfWork&) {}), StoreError);
  EXPECT_THROW(store_->migrate(), StoreError);
  EXPECT_THROW(store_->schema_version(), StoreError);
  EXPECT_FALSE(store_->ping());
}

TEST_P(LifecycleTest, ConcurrentClosesAllReturnAfterShutdown) {
  std::atomic<int> done{0};
  for (int i = 0; i < 200; ++i)
    store_->submit_write([](UnitOfWork& u) { u.processed_events().add(new_uuid(), "t", 1); },
                         [&](std::exception_ptr) { ++done; });
  std::vector<std::thread> closers;
  std::atomic<int> returned_early{0};
  for (int i = 0; i < 3; ++i)
    closers.emplace_back([&] {
      store_->close();
      if (done.load() != 200) ++returned_early;
    });
  for (auto& t : closers) t.join();
  EXPECT_EQ(returned_early.load(), 0);
}

TEST_P(LifecycleTest, DestroyingAnOpenStoreDrainsIt) {
  std::atomic<int> ok{0};
  auto other = open();
  for (int i = 0; i < 100; ++i)
    other->submit_write([](UnitOfWork& u) { u.processed_events().add(new_uuid(), "t", 1); },
                        [&](std::exception_ptr e) { ok += e ? 0 : 1; });
  other.reset();
  EXPECT_EQ(ok.load(), 100);
}

}  // namespace
}  // namespace comms::store::testing
