// Behaviour specific to the SQLite backend: URLs and files, pragmas, the
// migration list, bad rows, and the writer's failure paths (forced through
// triggers added behind the store's back).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <latch>
#include <set>
#include <thread>

#include "common/ids.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"

namespace comms::store {
namespace {

namespace fs = std::filesystem;

// A connection of the test's own to the store's file.
class RawDb {
 public:
  explicit RawDb(const fs::path& file) {
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db_));
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(msg + " in: " + sql);
    }
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("comms-sqlite-test-" + new_uuid());
    fs::create_directories(dir_);
    file_ = dir_ / "store.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> open(std::string url = "", int max_batch = 256) {
    StoreOptions o;
    o.url = url.empty() ? "sqlite:" + file_.string() : url;
    o.max_batch = max_batch;
    return open_store(o);
  }

  fs::path dir_;
  fs::path file_;
};

std::string open_error(const std::string& url, int read_threads = 2, int max_batch = 256) {
  StoreOptions o;
  o.url = url;
  o.read_threads = read_threads;
  o.max_batch = max_batch;
  try {
    open_store(o);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "(opened)";
}

TEST_F(SqliteStoreTest, RejectsUrlsItCannotServe) {
  EXPECT_NE(open_error("mysql://localhost/comms").find("'mysql'"), std::string::npos);
  EXPECT_NE(open_error("").find("empty"), std::string::npos);
  EXPECT_NE(open_error("sqlite:").find("names no file"), std::string::npos);
  EXPECT_NE(open_error((dir_ / "x.db").string(), 0).find("read_threads"), std::string::npos);
  EXPECT_NE(open_error((dir_ / "x.db").string(), 2, 0).find("max_batch"), std::string::npos);

  const std::string is_dir = open_error(dir_.string());
  EXPECT_NE(is_dir.find(dir_.string()), std::string::npos) << is_dir;

  std::ofstream(dir_ / "plain-file") << "x";
  const std::string under_file = open_error((dir_ / "plain-file" / "sub" / "store.db").string());
  EXPECT_NE(under_file.find("cannot create directory"), std::string::npos) << under_file;

  std::ofstream(dir_ / "not-a-db") << std::string(4096, 'z');
  const std::string garbage = open_error((dir_ / "not-a-db").string());
  EXPECT_NE(garbage.find("not a database"), std::string::npos) << garbage;
}

TEST_F(SqliteStoreTest, AcceptsPathsInEveryFormAndCreatesParents) {
  for (const std::string& url :
       {(dir_ / "a" / "b" / "plain.db").string(), "sqlite:" + (dir_ / "c" / "x.db").string(),
        "sqlite://" + (dir_ / "d" / "y.db").string()}) {
    auto s = open(url);
    EXPECT_EQ(s->backend(), "sqlite");
    EXPECT_EQ(s->migrate(), latest_version(sqlite::migrations()));
    s->close();
  }
  EXPECT_TRUE(fs::exists(dir_ / "a" / "b" / "plain.db"));
  EXPECT_TRUE(fs::exists(dir_ / "c" / "x.db"));
  EXPECT_TRUE(fs::exists(dir_ / "d" / "y.db"));
}

TEST_F(SqliteStoreTest, MemoryUrlIsAWorkingThrowawayStore) {
  auto s = open(":memory:");
  s->migrate();
  write_sync(*s, [](UnitOfWork& u) { u.processed_events().add("e", "t", 1); });
  bool seen = false;
  read_sync(*s, [&](UnitOfWork& u) { seen = u.processed_events().exists("e"); });
  EXPECT_TRUE(seen);
  s->close();
}

TEST_F(SqliteStoreTest, UsesWalJournal) {
  auto s = open();
  s->migrate();
  RawDb raw(file_);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
}

TEST(SqliteMigrations, AreNumberedFromOneWithoutGaps) {
  const auto steps = sqlite::migrations();
  ASSERT_FALSE(steps.empty());
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].version, static_cast<int>(i + 1));
    EXPECT_FALSE(steps[i].sql.empty());
    EXPECT_TRUE(names.insert(steps[i].name).second) << steps[i].name;
  }
}

TEST_F(SqliteStoreTest, FreshDatabaseMigratesStepByStepAndRecordsEachStep) {
  auto s = open();
  const int latest = latest_version(sqlite::migrations());
  EXPECT_EQ(s->schema_version(), std::make_pair(0, latest));
  EXPECT_EQ(s->migrate(), latest);
  EXPECT_EQ(s->schema_version(), std::make_pair(latest, latest));
  RawDb raw(file_);
  EXPECT_EQ(raw.text("SELECT COUNT(*) FROM schema_migrations WHERE applied_at > 0 AND name <> ''"),
            std::to_string(latest));
  EXPECT_EQ(raw.text("SELECT name FROM schema_migrations WHERE version = 1"), sqlite::migrations()[0].name);
  for (const char* index : {"notifications_recipient_created", "notifications_due", "notifications_leased",
                            "notifications_provider_message", "notifications_created", "outbox_unpublished"})
    EXPECT_EQ(raw.text(std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = '") +
                       index + "'"),
              "1")
        << index;
}

TEST_F(SqliteStoreTest, RefusesADatabaseNewerThanTheBinary) {
  auto s = open();
  s->migrate();
  RawDb(file_).exec("INSERT INTO schema_migrations VALUES (999, 'from_the_future', 1)");
  try {
    s->migrate();
    FAIL() << "migrated a newer database";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  EXPECT_EQ(s->schema_version().first, 999);
}

TEST_F(SqliteStoreTest, RowsItCannotInterpretAreErrorsNotCrashes) {
  auto s = open();
  s->migrate();
  domain::Notification n;
  n.id = new_uuid();
  n.recipient_id = "r";
  write_sync(*s, [&](UnitOfWork& u) { u.notifications().insert(n); });
  RawDb(file_).exec("UPDATE notifications SET status = 'Exploded' WHERE id = '" + n.id + "'");

  try {
    read_sync(*s, [&](UnitOfWork& u) { u.notifications().get(n.id); });
    FAIL() << "read a corrupt row";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown status 'Exploded'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_sync(*s, [&](UnitOfWork& u) { u.notifications().query({}); }), StoreError);
  std::map<std::pair<domain::Channel, domain::Status>, std::int64_t> by;
  read_sync(*s, [&](UnitOfWork& u) { by = u.notifications().count_by_channel_status(); });
  EXPECT_TRUE(by.empty());

  RawDb(file_).exec("UPDATE notifications SET status = 'Pending', channel = 'pigeon' WHERE id = '" + n.id +
                    "'");
  EXPECT_THROW(read_sync(*s, [&](UnitOfWork& u) { u.notifications().get(n.id); }), StoreError);
  EXPECT_TRUE(s->ping());
}

TEST_F(SqliteStoreTest, WaitsForAnotherProcessesWriteLock) {
  auto s = open();
  s->migrate();
  RawDb other(file_);
  other.exec("BEGIN IMMEDIATE");
  auto unlock = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    other.exec("COMMIT");
  });
  const auto start = std::chrono::steady_clock::now();
  write_sync(*s, [](UnitOfWork& u) { u.processed_events().add("e", "t", 1); });
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  unlock.get();
}

// Submits `n` units while the writer is held, so they commit as one group.
class HeldWriter {
 public:
  explicit HeldWriter(Store& s) {
    std::promise<void> started;
    auto f = started.get_future();
    s.submit_write(
        [&](UnitOfWork&) {
          started.set_value();
          gate_.wait();
        },
        [this](std::exception_ptr) { done_.count_down(); });
    f.wait();
  }
  void release() {
    gate_.count_down();
    done_.wait();
  }

 private:
  std::latch gate_{1};
  std::latch done_{1};
};

std::string message(const std::exception_ptr& e) {
  if (!e) return "(committed)";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  }
}

std::vector<std::string> run_group(Store& s, const std::vector<std::string>& event_types) {
  std::vector<std::promise<std::exception_ptr>> outcomes(event_types.size());
  HeldWriter held(s);
  for (std::size_t i = 0; i < event_types.size(); ++i)
    s.submit_write([type = event_types[i],
                    i](UnitOfWork& u) { u.processed_events().add("e" + std::to_string(i), type, 1); },
                   [&outcomes, i](std::exception_ptr e) { outcomes[i].set_value(e); });
  held.release();
  std::vector<std::string> out;
  for (auto& o : outcomes) out.push_back(message(o.get_future().get()));
  return out;
}

TEST_F(SqliteStoreTest, WhenSqliteAbortsTheTransactionEarlierUnitsFailAndLaterOnesStillCommit) {
  auto s = open();
  s->migrate();
  RawDb(file_).exec(
      "CREATE TRIGGER abort_all BEFORE INSERT ON processed_events WHEN NEW.event_type = 'abort' "
      "BEGIN SELECT RAISE(ROLLBACK, 'forced rollback'); END");

  const StoreStats before = s->stats();
  const auto results = run_group(*s, {"ok", "ok", "abort", "ok", "ok"});
  EXPECT_NE(results[0].find("transaction aborted"), std::string::npos) << results[0];
  EXPECT_NE(results[1].find("transaction aborted"), std::string::npos) << results[1];
  EXPECT_NE(results[2].find("forced rollback"), std::string::npos) << results[2];
  EXPECT_EQ(results[3], "(committed)");
  EXPECT_EQ(results[4], "(committed)");
  EXPECT_EQ(s->stats().write_batches - before.write_batches, 3);  // held, aborted, restarted

  std::vector<bool> exists;
  read_sync(*s, [&](UnitOfWork& u) {
    for (int i = 0; i < 5; ++i) exists.push_back(u.processed_events().exists("e" + std::to_string(i)));
  });
  EXPECT_EQ(exists, (std::vector<bool>{false, false, false, true, true}));
}

TEST_F(SqliteStoreTest, AUnitThatSwallowsARolledBackTransactionCannotWriteOnInAutocommit) {
  auto s = open();
  s->migrate();
  RawDb(file_).exec(
      "CREATE TRIGGER abort_all BEFORE INSERT ON processed_events WHEN NEW.event_type = 'abort' "
      "BEGIN SELECT RAISE(ROLLBACK, 'forced rollback'); END");
  try {
    write_sync(*s, [](UnitOfWork& u) {
      try {
        u.processed_events().add("first", "abort", 1);
      } catch (const StoreError&) {
      }
      u.processed_events().add("second", "ok", 1);
    });
    FAIL() << "the unit went on writing";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("rolled back"), std::string::npos) << e.what();
  }
  bool second = true;
  read_sync(*s, [&](UnitOfWork& u) { second = u.processed_events().exists("second"); });
  EXPECT_FALSE(second);
}

TEST_F(SqliteStoreTest, WhenCommitFailsEveryUnitOfTheGroupFails) {
  auto s = open();
  s->migrate();
  RawDb(file_).exec(
      "CREATE TABLE parent (id TEXT PRIMARY KEY);"
      "CREATE TABLE child (pid TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);"
      "CREATE TRIGGER poison AFTER INSERT ON processed_events WHEN NEW.event_type = 'poison' "
      "BEGIN INSERT INTO child VALUES ('missing'); END");

  const auto results = run_group(*s, {"ok", "poison", "ok"});
  for (const auto& r : results) EXPECT_NE(r.find("commit failed"), std::string::npos) << r;

  bool any = true;
  read_sync(*s, [&](UnitOfWork& u) {
    any = u.processed_events().exists("e0") || u.processed_events().exists("e1") ||
          u.processed_events().exists("e2");
  });
  EXPECT_FALSE(any);

  // The writer recovers: the next group commits.
  const auto next = run_group(*s, {"ok", "ok"});
  EXPECT_EQ(next, (std::vector<std::string>{"(committed)", "(committed)"}));
}

TEST_F(SqliteStoreTest, MaxBatchBoundsTheGroupSize) {
  auto s = open("", 4);
  s->migrate();
  const StoreStats before = s->stats();
  std::vector<std::string> types(10, "ok");
  run_group(*s, types);
  EXPECT_EQ(s->stats().write_batches - before.write_batches, 1 + 3);  // held, then 4 + 4 + 2
}

std::size_t open_fds() {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

TEST_F(SqliteStoreTest, OpeningAndClosingLeaksNoFileDescriptors) {
  {
    auto warm = open();  // first use may open shared libraries or log sinks
    warm->migrate();
  }
  const std::size_t before = open_fds();
  for (int i = 0; i < 30; ++i) {
    auto s = open();
    s->migrate();
    write_sync(*s, [&](UnitOfWork& u) { u.processed_events().add(new_uuid(), "t", i); });
    read_sync(*s, [](UnitOfWork& u) { u.notifications().query({}); });
    s->close();
  }
  EXPECT_EQ(open_fds(), before);
}

}  // namespace
}  // namespace comms::store
