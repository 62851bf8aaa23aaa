// Behaviour specific to the PostgreSQL backend: claims and migrations from
// several stores at once (as several instances would), error mapping, the
// pipelined group commit's failure paths, lost connections, and what
// connection errors say. Needs COMMS_TEST_PG_URL (skipped without it), except
// where noted.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "../store_test.h"
#include "store/postgres/connection.h"
#include "store/postgres/migrations.h"

namespace comms::store::testing {
namespace {

using domain::Notification;

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("COMMS_TEST_PG_URL");
    if (!url || !*url) GTEST_SKIP() << "COMMS_TEST_PG_URL is not set: no PostgreSQL server to test";
    schema_ = std::make_unique<PgSchema>(url);
  }

  // A store of its own (as another instance would have) over the test's schema.
  std::unique_ptr<Store> open(StoreOptions options = {}) {
    options.url = schema_->url();
    return open_store(options);
  }
  std::unique_ptr<Store> open_migrated() {
    auto s = open();
    s->migrate();
    return s;
  }
  // A raw connection to the test's schema.
  postgres::Connection raw() { return postgres::Connection(schema_->url()); }

  std::unique_ptr<PgSchema> schema_;
};

void insert_due(Store& s, int n) {
  write_sync(s, [&](UnitOfWork& u) {
    for (int i = 0; i < n; ++i) {
      Notification x = sample_notification("r", i);
      x.next_attempt_at = 10;
      u.notifications().insert(x);
    }
  });
}

TEST_F(PgStoreTest, TwoStoresClaimingTogetherNeverShareARowAndMissNone) {
  constexpr int kRows = 3000;
  constexpr int kThreadsPerStore = 4;
  auto a = open_migrated();
  auto b = open();
  insert_due(*a, kRows);

  std::mutex mu;
  std::map<std::string, int> times_claimed;  // guarded by mu
  std::atomic<int> errors{0};
  std::latch start(2 * kThreadsPerStore);
  std::vector<std::thread> threads;
  for (Store* s : {a.get(), b.get()}) {
    for (int t = 0; t < kThreadsPerStore; ++t) {
      threads.emplace_back([&, s] {
        start.arrive_and_wait();
        for (;;) {
          std::vector<Notification> got;
          try {
            write_sync(*s, [&](UnitOfWork& u) { got = u.notifications().claim_due(100, 5, 60'000); });
          } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            ++errors;
            return;
          }
          if (got.empty()) return;
          std::lock_guard lock(mu);
          for (const auto& n : got) ++times_claimed[n.id];
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(times_claimed.size(), static_cast<std::size_t>(kRows));
  int twice = 0;
  for (const auto& [id, times] : times_claimed) twice += times != 1;
  EXPECT_EQ(twice, 0);
  EXPECT_GT(a->stats().write_units, 10);
  EXPECT_GT(b->stats().write_units, 10) << "both stores took part";
}

TEST_F(PgStoreTest, MigrationsRunConcurrentlyFromSeveralStoresEndWithOneLedger) {
  constexpr int kStores = 4;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kStores; ++i) stores.push_back(open());
  std::latch start(kStores);
  std::vector<std::future<int>> ran;
  for (auto& s : stores)
    ran.push_back(std::async(std::launch::async, [&start, &s] {
      start.arrive_and_wait();
      return s->migrate();
    }));
  int total = 0;
  for (auto& r : ran) total += r.get();
  const int latest = latest_version(postgres::migrations());
  EXPECT_EQ(total, latest) << "each step applied exactly once";
  auto c = raw();
  EXPECT_EQ(c.query("SELECT COUNT(*), MIN(version), MAX(version) FROM schema_migrations").int64(0, 0),
            latest);
  const auto names = c.query("SELECT version, name FROM schema_migrations ORDER BY version");
  ASSERT_EQ(names.rows(), latest);
  for (int i = 0; i < latest; ++i) {
    EXPECT_EQ(names.int32(i, 0), postgres::migrations()[i].version);
    EXPECT_EQ(names.text(i, 1), postgres::migrations()[i].name);
  }
  for (auto& s : stores) EXPECT_EQ(s->schema_version(), std::make_pair(latest, latest));
}

TEST_F(PgStoreTest, MigrationsMatchSqlitesVersionsAndNames) {
  const auto steps = postgres::migrations();
  ASSERT_GE(steps.size(), 6u);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].version, static_cast<int>(i) + 1);
    EXPECT_EQ(steps[i].sql.find("AUTOINCREMENT"), std::string_view::npos) << steps[i].name;
  }
}

TEST_F(PgStoreTest, RefusesADatabaseNewerThanTheBinary) {
  auto s = open_migrated();
  auto c = raw();
  c.query("INSERT INTO schema_migrations VALUES (999, 'from_the_future', 1)");
  c.sync();
  try {
    s->migrate();
    FAIL() << "migrated a newer database";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  EXPECT_EQ(s->schema_version().first, 999);
}

TEST_F(PgStoreTest, UniqueViolationIsADuplicateErrorNamingTheSqlstate) {
  auto s = open_migrated();
  Notification n = sample_notification();
  write_sync(*s, [&](UnitOfWork& u) { u.notifications().insert(n); });
  try {
    write_sync(*s, [&](UnitOfWork& u) { u.notifications().insert(n); });
    FAIL() << "inserted a duplicate";
  } catch (const DuplicateError& e) {
    EXPECT_NE(std::string(e.what()).find("23505"), std::string::npos) << e.what();
  }
  // A queued insert's violation surfaces at the unit's next statement, still as DuplicateError.
  OutboxMessage m{0, new_uuid(), "T", "{}", "", 1, 0, 0, ""};
  EXPECT_THROW(write_sync(*s,
                          [&](UnitOfWork& u) {
                            u.notifications().insert(n);
                            u.outbox().add(m);
                          }),
               DuplicateError);
  std::vector<OutboxMessage> pending;
  read_sync(*s, [&](UnitOfWork& u) { pending = u.outbox().pending(10); });
  EXPECT_TRUE(pending.empty()) << "the unit was rolled back as a whole";
}

// Units queued behind a held one form one group; failures of every kind roll back alone.
TEST_F(PgStoreTest, FailingUnitsOfEveryKindRollBackAloneWithinOneGroup) {
  StoreOptions one_writer;
  one_writer.write_threads = 1;
  auto s = open(one_writer);
  s->migrate();
  Notification existing = sample_notification();
  write_sync(*s, [&](UnitOfWork& u) { u.notifications().insert(existing); });

  std::promise<void> started;
  std::latch gate(1), held_done(1);
  s->submit_write(
      [&](UnitOfWork&) {
        started.set_value();
        gate.wait();
      },
      [&](std::exception_ptr) { held_done.count_down(); });
  started.get_future().wait();
  const StoreStats before = s->stats();

  // Unit kinds: 0 ok, 1 queued insert then C++ throw, 2 duplicate left queued at the unit's end,
  // 3 duplicate found by a later statement, 4 SQL error in a statement that is waited for.
  constexpr int kUnits = 40;
  std::vector<Notification> rows(kUnits);
  std::vector<std::promise<std::exception_ptr>> outcomes(kUnits);
  for (int i = 0; i < kUnits; ++i) {
    rows[i] = sample_notification("group", i);
    s->submit_write(
        [&, i](UnitOfWork& u) {
          u.notifications().insert(rows[i]);
          u.processed_events().add("evt-" + std::to_string(i), "T", 1);
          switch (i % 5) {
            case 1:
              throw std::runtime_error("render failed");
            case 2:
              u.notifications().insert(existing);
              break;
            case 3:
              u.notifications().insert(existing);
              u.notifications().get(existing.id);
              break;
            case 4: {
              Notification ghost = rows[i];
              ghost.version = 42;
              u.notifications().update(ghost);
              break;
            }
          }
        },
        [&, i](std::exception_ptr e) { outcomes[i].set_value(e); });
  }
  gate.count_down();
  held_done.wait();

  for (int i = 0; i < kUnits; ++i) {
    std::exception_ptr e = outcomes[i].get_future().get();
    switch (i % 5) {
      case 0:
        EXPECT_FALSE(e) << "unit " << i;
        break;
      case 1:
        EXPECT_THROW(std::rethrow_exception(e), std::runtime_error);
        break;
      case 2:
      case 3:
        EXPECT_THROW(std::rethrow_exception(e), DuplicateError) << "unit " << i;
        break;
      case 4:
        EXPECT_THROW(std::rethrow_exception(e), ConflictError) << "unit " << i;
        break;
    }
  }
  const StoreStats after = s->stats();
  EXPECT_EQ(after.write_batches - before.write_batches, 1);
  read_sync(*s, [&](UnitOfWork& u) {
    for (int i = 0; i < kUnits; ++i) {
      const bool kept = i % 5 == 0;
      EXPECT_EQ(u.notifications().get(rows[i].id).has_value(), kept) << "unit " << i;
      EXPECT_EQ(u.processed_events().exists("evt-" + std::to_string(i)), kept) << "unit " << i;
    }
  });
}

TEST_F(PgStoreTest, ReadAtNeverMovesBackAndMarkReadKeepsTheVersion) {
  auto s = open_migrated();
  Notification n = sample_notification();
  n.channel = domain::Channel::inapp;
  n.read_at = 0;
  write_sync(*s, [&](UnitOfWork& u) { u.notifications().insert(n); });
  bool changed = false;
  write_sync(*s, [&](UnitOfWork& u) { changed = u.notifications().mark_read(n.id, 5000); });
  EXPECT_TRUE(changed);
  write_sync(*s, [&](UnitOfWork& u) { u.notifications().update(n); });  // n.read_at is still 0
  std::optional<Notification> got;
  read_sync(*s, [&](UnitOfWork& u) { got = u.notifications().get(n.id); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->read_at, 5000);
  EXPECT_EQ(got->version, 2);
}

TEST_F(PgStoreTest, SequencesIncreaseAcrossStores) {
  auto a = open_migrated();
  auto b = open();
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 6; ++i) {
    Store& s = i % 2 ? *b : *a;
    OutboxMessage m{0, new_uuid(), "T", "{}", "", 1, 0, 0, ""};
    DevMessage d{0, new_uuid(), domain::Channel::sms, "+260971234567", "", "body", 1};
    WorkflowHistoryEntry h{0, "corr", 1, "", "Started", "T", "{}"};
    write_sync(s, [&](UnitOfWork& u) {
      u.outbox().add(m);
      ASSERT_TRUE(u.dev_inbox().add(d));
      u.workflows().add_history(h);
    });
    for (auto seq : {m.seq, d.seq, h.seq}) EXPECT_GT(seq, 0);
    seqs.push_back(m.seq);
  }
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_EQ(std::set<std::int64_t>(seqs.begin(), seqs.end()).size(), seqs.size());
}

TEST_F(PgStoreTest, ALostConnectionFailsItsUnitsAndTheStoreReconnects) {
  const std::string app = "comms-test-" + schema_->name();
  StoreOptions o;
  o.url = schema_->url() + "&application_name=" + app;
  auto s = open_store(o);
  s->migrate();
  write_sync(*s, [](UnitOfWork& u) { u.processed_events().add("before", "T", 1); });
  read_sync(*s, [](UnitOfWork& u) { u.processed_events().exists("before"); });

  auto killed =
      raw().query("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                  postgres::Params().add(app));
  EXPECT_GE(killed.int64(0, 0), 3) << "the writers and at least one reader";

  // The first unit on each lost connection may fail; the store reconnects for the next.
  auto eventually = [](const std::function<void()>& f) {
    for (int attempt = 0;; ++attempt) {
      try {
        f();
        return attempt;
      } catch (const StoreError&) {
        if (attempt == 4) throw;
      }
    }
  };
  EXPECT_LE(
      eventually([&] { write_sync(*s, [](UnitOfWork& u) { u.processed_events().add("after", "T", 2); }); }),
      o.write_threads)
      << "at most one failure per writer";
  bool seen = false;
  for (int i = 0; i < 4; ++i)  // every reader
    eventually([&] { read_sync(*s, [&](UnitOfWork& u) { seen = u.processed_events().exists("after"); }); });
  EXPECT_TRUE(seen);
  EXPECT_TRUE(s->ping());
}

TEST_F(PgStoreTest, AWrongPasswordIsAnErrorThatDoesNotShowIt) {
  std::string url = std::getenv("COMMS_TEST_PG_URL");
  const auto at = url.find('@');
  const auto colon = url.rfind(':', at);
  url = url.substr(0, colon + 1) + "Wr0ngSecret" + url.substr(at);
  StoreOptions o;
  o.url = url;
  try {
    open_store(o);
    FAIL() << "connected with a wrong password";
  } catch (const StoreError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find("Wr0ngSecret"), std::string::npos) << what;
    EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
  }
}

// No server needed: nothing listens on the port.
TEST(PgStoreUrls, AnUnreachableServerIsAStoreErrorNamingHostPortAndDatabaseButNotThePassword) {
  StoreOptions o;
  for (const std::string url : {"postgres://comms:s3cret-pw@127.0.0.1:1/lending",
                                "postgresql://comms:s3cret-pw@127.0.0.1:1/lending"}) {
    o.url = url;
    try {
      open_store(o);
      FAIL() << "connected to port 1";
    } catch (const StoreError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("127.0.0.1:1/lending"), std::string::npos) << what;
      EXPECT_EQ(what.find("s3cret"), std::string::npos) << what;
    }
  }
  o.url = "postgres://comms:s3cret-pw@127.0.0.1:1/lending?bogus_option=1";
  try {
    open_store(o);
    FAIL() << "accepted an unknown option";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace comms::store::testing
