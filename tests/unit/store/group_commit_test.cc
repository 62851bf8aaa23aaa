#include <atomic>
#include <future>
#include <latch>
#include <thread>

#include "store_test.h"

namespace comms::store::testing {
namespace {

using domain::Notification;

class GroupCommitTest : public StoreTest {
 protected:
  // One writer, so that holding it holds every write (PostgreSQL has several by default).
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped()) return;
    StoreOptions one_writer;
    one_writer.write_threads = 1;
    reopen(one_writer);
  }

  // Occupies the writer with a unit that waits for release(), so that what is
  // submitted meanwhile queues up and commits as one group.
  void hold_writer() {
    std::promise<void> started;
    auto started_f = started.get_future();
    store_->submit_write(
        [this, &started](UnitOfWork&) {
          started.set_value();
          gate_.wait();
        },
        [this](std::exception_ptr) { held_done_.count_down(); });
    started_f.wait();
  }
  void release() { gate_.count_down(); }
  void wait_held() { held_done_.wait(); }

 private:
  std::latch gate_{1};
  std::latch held_done_{1};
};
COMMS_STORE_BACKENDS(GroupCommitTest);

struct Outcome {
  std::promise<std::exception_ptr> promise;
  std::future<std::exception_ptr> future = promise.get_future();
};

TEST_P(GroupCommitTest, AThrowingUnitRollsBackAloneWhileTheRestOfTheBatchCommits) {
  constexpr int kUnits = 50;
  constexpr int kThrower = 17;
  constexpr int kDuplicate = 31;
  Notification existing = sample_notification();
  write([&](UnitOfWork& u) { u.notifications().insert(existing); });

  hold_writer();
  const StoreStats before = store_->stats();
  std::vector<Notification> rows(kUnits);
  std::vector<Outcome> outcomes(kUnits);
  for (int i = 0; i < kUnits; ++i) {
    rows[i] = sample_notification();
    store_->submit_write(
        [&, i](UnitOfWork& u) {
          u.processed_events().add("evt-" + std::to_string(i), "LoanApproved", 1);
          OutboxMessage m{0, new_uuid(), "NotificationQueued", "{}", "", 1, 0, 0, ""};
          u.outbox().add(m);
          u.notifications().insert(rows[i]);
          if (i == kThrower) throw std::runtime_error("template missing");
          if (i == kDuplicate) u.notifications().insert(existing);
        },
        [&, i](std::exception_ptr e) { outcomes[i].promise.set_value(e); });
  }
  release();
  wait_held();

  for (int i = 0; i < kUnits; ++i) {
    std::exception_ptr e = outcomes[i].future.get();
    if (i == kThrower) {
      ASSERT_TRUE(e);
      try {
        std::rethrow_exception(e);
      } catch (const std::runtime_error& ex) {
        EXPECT_STREQ(ex.what(), "template missing");
      }
    } else if (i == kDuplicate) {
      ASSERT_TRUE(e);
      EXPECT_THROW(std::rethrow_exception(e), DuplicateError);
    } else {
      EXPECT_FALSE(e) << "unit " << i;
    }
  }
  const StoreStats after = store_->stats();
  EXPECT_EQ(after.write_batches - before.write_batches, 1)
      << "all units queued behind the held one form one group";
  EXPECT_EQ(after.write_units - before.write_units, kUnits);

  read([&](UnitOfWork& u) {
    for (int i = 0; i < kUnits; ++i) {
      const bool kept = i != kThrower && i != kDuplicate;
      EXPECT_EQ(u.notifications().get(rows[i].id).has_value(), kept) << "unit " << i;
      EXPECT_EQ(u.processed_events().exists("evt-" + std::to_string(i)), kept) << "unit " << i;
    }
    EXPECT_EQ(u.outbox().pending(1000).size(), static_cast<std::size_t>(kUnits - 2));
  });
}

TEST_P(GroupCommitTest, ManyConcurrentSubmittersOneThrows) {
  constexpr int kThreads = 32;
  constexpr int kPerThread = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        try {
          write_sync(*store_, [&](UnitOfWork& u) {
            Notification n = sample_notification("thread-" + std::to_string(t), i);
            u.notifications().insert(n);
            if (t == 5 && i == 7) throw std::logic_error("boom");
          });
        } catch (const std::logic_error&) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 1);
  Page<Notification> page;
  read([&](UnitOfWork& u) { page = u.notifications().query({}); });
  EXPECT_EQ(page.total, kThreads * kPerThread - 1);
  NotificationQuery q;
  q.recipient_id = "thread-5";
  read([&](UnitOfWork& u) { page = u.notifications().query(q); });
  EXPECT_EQ(page.total, kPerThread - 1);
}

TEST_P(GroupCommitTest, ReadsProceedWhileAWriteTransactionIsOpen) {
  Notification n = sample_notification();
  write([&](UnitOfWork& u) { u.notifications().insert(n); });
  hold_writer();
  std::optional<Notification> got;
  read([&](UnitOfWork& u) { got = u.notifications().get(n.id); });
  release();
  wait_held();
  EXPECT_TRUE(got);
}

TEST_P(GroupCommitTest, WriteSyncRethrowsTheUnitsOwnException) {
  struct Custom {
    int code;
  };
  try {
    write([](UnitOfWork&) { throw Custom{42}; });
    FAIL() << "no exception";
  } catch (const Custom& c) {
    EXPECT_EQ(c.code, 42);
  }
}

TEST_P(GroupCommitTest, BlockingCallsFromAStoreThreadFailInsteadOfDeadlocking) {
  EXPECT_THROW(write([&](UnitOfWork&) { write_sync(*store_, [](UnitOfWork&) {}); }), StoreError);
  EXPECT_THROW(write([&](UnitOfWork&) { store_->migrate(); }), StoreError);
  EXPECT_THROW(read([&](UnitOfWork&) { read_sync(*store_, [](UnitOfWork&) {}); }), StoreError);
}

TEST_P(GroupCommitTest, AThrowingDoneDoesNotStopTheWriter) {
  store_->submit_write([](UnitOfWork&) {},
                       [](std::exception_ptr) { throw std::runtime_error("bad callback"); });
  store_->submit_read([](UnitOfWork&) {}, [](std::exception_ptr) { throw 7; });
  Notification n = sample_notification();
  write([&](UnitOfWork& u) { u.notifications().insert(n); });
  std::optional<Notification> got;
  read([&](UnitOfWork& u) { got = u.notifications().get(n.id); });
  EXPECT_TRUE(got);
}

}  // namespace
}  // namespace comms::store::testing
