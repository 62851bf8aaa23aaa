#include "store/sqlite/sqlite_store.h"

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/job_queue.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/unit_of_work.h"
#include "store/store_thread.h"
#include "common/thread_name.h"

namespace comms::store::sqlite {
namespace {

namespace fs = std::filesystem;
using detail::call_done;
using detail::fail_committed;
using detail::run_blocking;
using detail::what_of;

constexpr int kBusyTimeoutMs = 5000;

std::exception_ptr closed_error() {
  return std::make_exception_ptr(StoreError("store closed"));
}

void configure_writer(Connection& c, bool synchronous_full) {
  sqlite3_busy_timeout(c.handle(), kBusyTimeoutMs);
  {
    Statement q(c, "PRAGMA journal_mode = WAL");
    if (!q.step() || q.text(0) != "wal")
      throw StoreError("SQLite refused WAL journal mode (is the file on a network filesystem?)");
  }
  c.exec(synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
  c.exec("PRAGMA foreign_keys = ON");
}

void configure_reader(Connection& c) {
  sqlite3_busy_timeout(c.handle(), kBusyTimeoutMs);
  c.exec("PRAGMA foreign_keys = ON");
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, fs::path temp_dir, const StoreOptions& options)
      : temp_dir_(std::move(temp_dir)), max_batch_(static_cast<std::size_t>(options.max_batch)) {
    writer_conn_ = std::make_unique<Connection>(path, Connection::Mode::read_write);
    configure_writer(*writer_conn_, options.synchronous_full);
    for (int i = 0; i < options.read_threads; ++i) {
      reader_conns_.push_back(std::make_unique<Connection>(path, Connection::Mode::read_only));
      configure_reader(*reader_conns_.back());
    }
    try {
      writer_ = named_thread("store-writer", [this] { writer_loop(); });
      for (auto& conn : reader_conns_)
        readers_.push_back(named_thread("store-reader", [this, c = conn.get()] { reader_loop(*c); }));
    } catch (...) {
      stop_threads();
      throw;
    }
  }

  ~SqliteStore() override { close(); }

  void submit_write(Work work, Done done) override {
    Job job{[w = std::move(work)](Connection& c) {
              SqliteUnitOfWork uow(c, true);
              w(uow);
            },
            std::move(done)};
    if (!writes_.push(job)) call_done(job.done, closed_error());
  }

  void submit_read(Work work, Done done) override {
    Job job{[this, w = std::move(work)](Connection& c) {
              ++read_units_;
              SqliteUnitOfWork uow(c, false);
              w(uow);
            },
            std::move(done)};
    if (!reads_.push(job)) call_done(job.done, closed_error());
  }

  int migrate() override {
    int ran = 0;
    run_blocking(writes_, [&](Connection& c) { ran = apply_migrations(c, migrations()); });
    return ran;
  }

  std::pair<int, int> schema_version() override {
    int current = 0;
    run_blocking(reads_, [&](Connection& c) { current = current_schema_version(c); });
    return {current, latest_version(migrations())};
  }

  bool ping() override {
    try {
      run_blocking(reads_, [](Connection& c) {
        Statement q(c, "SELECT 1");
        q.step();
      });
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  void close() override {
    if (detail::on_store_thread()) throw StoreError("close() called on a store thread (it would deadlock)");
    std::lock_guard lock(close_mu_);
    if (closed_) return;
    stop_threads();
    reader_conns_.clear();
    writer_conn_.reset();
    if (!temp_dir_.empty()) {
      std::error_code ec;
      fs::remove_all(temp_dir_, ec);
    }
    closed_ = true;
  }

  std::string backend() const override { return "sqlite"; }

  StoreStats stats() const override {
    return {write_batches_.load(), write_units_.load(), read_units_.load()};
  }

 private:
  // Refuses new jobs, lets the threads drain what was queued, joins them.
  void stop_threads() {
    writes_.close();
    reads_.close();
    if (writer_.joinable()) writer_.join();
    for (auto& t : readers_)
      if (t.joinable()) t.join();
  }

  void writer_loop() {
    detail::mark_store_thread();
    std::vector<Job> batch;
    batch.reserve(max_batch_);
    while (writes_.pop(max_batch_, batch)) {
      if (batch.front().standalone)
        run_standalone(*writer_conn_, batch.front());
      else
        run_batch(batch);
      batch.clear();
    }
  }

  void reader_loop(Connection& c) {
    detail::mark_store_thread();
    std::vector<Job> one;
    while (reads_.pop(1, one)) {
      run_read(c, one.front());
      one.clear();
    }
  }

  static void run_standalone(Connection& c, Job& job) {
    std::exception_ptr error;
    try {
      job.run(c);
    } catch (...) {
      error = std::current_exception();
    }
    call_done(job.done, std::move(error));
  }

  static void run_read(Connection& c, Job& job) {
    std::exception_ptr error;
    try {
      Statement(c, "BEGIN").run();
      job.run(c);
      Statement(c, "COMMIT").run();
    } catch (...) {
      error = std::current_exception();
      c.rollback_quietly();
    }
    call_done(job.done, std::move(error));
  }

  // One group commit: BEGIN IMMEDIATE, each job inside its own savepoint,
  // COMMIT once, then every Done. A failing job is rolled back to its
  // savepoint alone. If SQLite itself aborts the transaction (I/O error, disk
  // full), the jobs already run in it fail too and the rest start afresh.
  void run_batch(std::vector<Job>& batch) {
    Connection& c = *writer_conn_;
    std::vector<std::exception_ptr> results(batch.size());
    std::size_t i = 0;
    while (i < batch.size()) {
      ++write_batches_;
      const std::size_t first = i;
      try {
        Statement(c, "BEGIN IMMEDIATE").run();
      } catch (...) {
        for (; i < batch.size(); ++i) results[i] = std::current_exception();
        break;
      }
      bool aborted = false;
      for (; i < batch.size() && !aborted; ++i) {
        ++write_units_;
        try {
          Statement(c, "SAVEPOINT unit").run();
          batch[i].run(c);
          Statement(c, "RELEASE unit").run();
        } catch (...) {
          results[i] = std::current_exception();
          aborted = !undo_unit(c);
          if (aborted)
            fail_committed(results, first, i,
                           "transaction aborted by an earlier error: " + what_of(results[i]));
        }
      }
      if (aborted) continue;
      try {
        Statement(c, "COMMIT").run();
      } catch (...) {
        const std::string why = what_of(std::current_exception());
        c.rollback_quietly();
        fail_committed(results, first, i, "commit failed: " + why);
      }
    }
    for (std::size_t k = 0; k < batch.size(); ++k) call_done(batch[k].done, std::move(results[k]));
  }

  // Rolls a failed unit back to its savepoint; false when the enclosing
  // transaction is gone (SQLite rolled it back, or the savepoint is unusable).
  static bool undo_unit(Connection& c) {
    if (!c.in_transaction()) return false;
    try {
      Statement(c, "ROLLBACK TO unit").run();
      Statement(c, "RELEASE unit").run();
      return true;
    } catch (...) {
      c.rollback_quietly();
      return false;
    }
  }

  const fs::path temp_dir_;
  const std::size_t max_batch_;
  std::unique_ptr<Connection> writer_conn_;                // owned by writer_ while it runs
  std::vector<std::unique_ptr<Connection>> reader_conns_;  // [i] owned by readers_[i] while it runs
  JobQueue writes_;
  JobQueue reads_;
  std::thread writer_;
  std::vector<std::thread> readers_;
  std::atomic<std::int64_t> write_batches_{0};
  std::atomic<std::int64_t> write_units_{0};
  std::atomic<std::int64_t> read_units_{0};
  std::mutex close_mu_;
  bool closed_ = false;  // guarded by close_mu_
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const StoreOptions& options) {
  fs::path file = path;
  fs::path temp_dir;
  if (path == ":memory:") {
    temp_dir = fs::temp_directory_path() / ("comms-store-" + new_uuid());
    file = temp_dir / "store.db";
  }
  if (const fs::path parent = file.parent_path(); !parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec)
      throw StoreError("cannot create directory '" + parent.string() + "' for the store: " + ec.message());
  }
  try {
    return std::make_unique<SqliteStore>(file.string(), temp_dir, options);
  } catch (...) {
    if (!temp_dir.empty()) {
      std::error_code ec;
      fs::remove_all(temp_dir, ec);
    }
    throw;
  }
}

}  // namespace comms::store::sqlite
