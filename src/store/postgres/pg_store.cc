#include "store/postgres/pg_store.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "store/job_queue.h"
#include "store/postgres/connection.h"
#include "store/postgres/migrations.h"
#include "store/postgres/unit_of_work.h"
#include "store/store_thread.h"
#include "common/thread_name.h"

namespace comms::store::postgres {
namespace {

using detail::call_done;
using detail::fail_committed;
using detail::run_blocking;
using detail::what_of;

// Work for one connection-owning thread; `done` gets its outcome. A
// standalone job (migrations, ping) runs alone, outside any transaction.
struct Job {
  std::function<void(Connection&)> run;
  Done done;
  bool standalone = false;
};
using JobQueue = detail::JobQueue<Job>;

// Each unit's SAVEPOINT is a subtransaction. A backend caches at most 64
// subtransaction ids (PGPROC_MAX_CACHED_SUBXIDS); a transaction with more makes
// every other session's snapshot checks consult pg_subtrans, which slows the
// whole server down. So a group holds at most 64 units.
constexpr int kMaxSubtransactions = 64;

std::exception_ptr closed_error() {
  return std::make_exception_ptr(StoreError("store closed"));
}

class PgStore final : public Store {
 public:
  PgStore(const std::string& url, const StoreOptions& options)
      : url_(url), max_batch_(static_cast<std::size_t>(std::min(options.max_batch, kMaxSubtransactions))) {
    for (int i = 0; i < options.write_threads; ++i)
      writer_conns_.push_back(std::make_unique<Connection>(url_));
    for (int i = 0; i < options.read_threads; ++i)
      reader_conns_.push_back(std::make_unique<Connection>(url_));
    try {
      for (auto& conn : writer_conns_)
        writers_.push_back(named_thread("store-writer", [this, &conn] { writer_loop(conn); }));
      for (auto& conn : reader_conns_)
        readers_.push_back(named_thread("store-reader", [this, &conn] { reader_loop(conn); }));
    } catch (...) {
      stop_threads();
      throw;
    }
  }

  ~PgStore() override { close(); }

  void submit_write(Work work, Done done) override {
    Job job{[w = std::move(work)](Connection& c) {
              PgUnitOfWork uow(c, true);
              w(uow);
            },
            std::move(done)};
    if (!writes_.push(job)) call_done(job.done, closed_error());
  }

  void submit_read(Work work, Done done) override {
    Job job{[this, w = std::move(work)](Connection& c) {
              ++read_units_;
              PgUnitOfWork uow(c, false);
              w(uow);
            },
            std::move(done)};
    if (!reads_.push(job)) call_done(job.done, closed_error());
  }

  int migrate() override {
    int ran = 0;
    run_blocking(writes_, [&](Connection& c) { ran = apply_migrations(c); });
    return ran;
  }

  std::pair<int, int> schema_version() override {
    int current = 0;
    run_blocking(reads_, [&](Connection& c) { current = current_schema_version(c); });
    return {current, latest_version(migrations())};
  }

  bool ping() override {
    try {
      run_blocking(reads_, [](Connection& c) { c.query("SELECT 1"); });
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
    writer_conns_.clear();
    closed_ = true;
  }

  std::string backend() const override { return "postgres"; }

  StoreStats stats() const override {
    return {write_batches_.load(), write_units_.load(), read_units_.load()};
  }

 private:
  // Refuses new jobs, lets the threads drain what was queued, joins them.
  void stop_threads() {
    writes_.close();
    reads_.close();
    for (auto& t : writers_)
      if (t.joinable()) t.join();
    for (auto& t : readers_)
      if (t.joinable()) t.join();
  }

  // The thread's connection, reopened if it was lost. StoreError when the server cannot be reached.
  Connection& connected(std::unique_ptr<Connection>& conn) {
    if (!conn || !conn->ok()) {
      conn.reset();
      conn = std::make_unique<Connection>(url_);
    }
    return *conn;
  }

  void writer_loop(std::unique_ptr<Connection>& conn) {
    detail::mark_store_thread();
    std::vector<Job> batch;
    batch.reserve(max_batch_);
    while (writes_.pop(max_batch_, batch)) {
      if (batch.front().standalone)
        run_standalone(conn, batch.front());
      else
        run_batch(conn, batch);
      batch.clear();
    }
  }

  void reader_loop(std::unique_ptr<Connection>& conn) {
    detail::mark_store_thread();
    std::vector<Job> one;
    while (reads_.pop(1, one)) {
      if (one.front().standalone)
        run_standalone(conn, one.front());
      else
        run_read(conn, one.front());
      one.clear();
    }
  }

  void run_standalone(std::unique_ptr<Connection>& conn, Job& job) {
    std::exception_ptr error;
    try {
      Connection& c = connected(conn);
      job.run(c);
      c.sync();  // ends the implicit transaction of statements outside BEGIN/COMMIT
    } catch (...) {
      error = std::current_exception();
      if (conn) conn->rollback();
    }
    call_done(job.done, std::move(error));
  }

  // A read unit in its own snapshot. Its COMMIT is not waited for: it travels
  // with the next unit's first statement (a read-only commit has nothing to make durable).
  void run_read(std::unique_ptr<Connection>& conn, Job& job) {
    std::exception_ptr error;
    try {
      Connection& c = connected(conn);
      c.send("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", {}, true);
      job.run(c);
      c.send("COMMIT", {}, true);
      c.sync_later();
    } catch (...) {
      error = std::current_exception();
      if (conn) conn->rollback();
    }
    call_done(job.done, std::move(error));
  }

  // One group commit: BEGIN, each job inside its own savepoint, COMMIT once,
  // then every Done. A failing job is rolled back to its savepoint alone. If
  // the transaction itself is lost (connection lost), the jobs already run in
  // it fail too and the rest start afresh.
  void run_batch(std::unique_ptr<Connection>& conn, std::vector<Job>& batch) {
    std::vector<std::exception_ptr> results(batch.size());
    std::size_t i = 0;
    while (i < batch.size()) {
      ++write_batches_;
      const std::size_t first = i;
      Connection* c = nullptr;
      try {
        c = &connected(conn);
        c->send("BEGIN", {}, true);
      } catch (...) {
        for (; i < batch.size(); ++i) results[i] = std::current_exception();
        break;
      }
      bool aborted = false;
      for (; i < batch.size() && !aborted; ++i) {
        ++write_units_;
        try {
          c->send("SAVEPOINT unit", {}, true);
          batch[i].run(*c);
          if (c->unchecked()) c->wait();  // the unit's queued writes must have succeeded
          c->send("RELEASE SAVEPOINT unit", {}, true);
        } catch (...) {
          results[i] = std::current_exception();
          aborted = !undo_unit(*c);
          if (aborted)
            fail_committed(results, first, i,
                           "transaction aborted by an earlier error: " + what_of(results[i]));
        }
      }
      if (aborted) {
        c->rollback();
        continue;
      }
      try {
        if (c->query("COMMIT", {}, true).command() != "COMMIT")
          throw StoreError("the transaction had failed and was rolled back");
      } catch (...) {
        const std::string why = what_of(std::current_exception());
        c->rollback();
        fail_committed(results, first, i, "commit failed: " + why);
      }
    }
    for (std::size_t k = 0; k < batch.size(); ++k) call_done(batch[k].done, std::move(results[k]));
  }

  // Rolls a failed unit back to its savepoint; false when the enclosing
  // transaction is gone (the connection was lost).
  static bool undo_unit(Connection& c) {
    c.discard();
    if (!c.ok()) return false;
    try {
      c.send("ROLLBACK TO SAVEPOINT unit", {}, true);
      c.send("RELEASE SAVEPOINT unit", {}, true);
      c.wait();
      return true;
    } catch (...) {
      return false;
    }
  }

  const std::string url_;
  const std::size_t max_batch_;
  std::vector<std::unique_ptr<Connection>> writer_conns_;  // [i] owned by writers_[i] while it runs
  std::vector<std::unique_ptr<Connection>> reader_conns_;  // [i] owned by readers_[i] while it runs
  JobQueue writes_;
  JobQueue reads_;
  std::vector<std::thread> writers_;
  std::vector<std::thread> readers_;
  std::atomic<std::int64_t> write_batches_{0};
  std::atomic<std::int64_t> write_units_{0};
  std::atomic<std::int64_t> read_units_{0};
  std::mutex close_mu_;
  bool closed_ = false;  // guarded by close_mu_
};

}  // namespace

std::unique_ptr<Store> open_pg_store(const std::string& url, const StoreOptions& options) {
  return std::make_unique<PgStore>(url, options);
}

}  // namespace comms::store::postgres
