// One PostgreSQL connection (libpq) in pipeline mode, with its cache of
// prepared statements; Params and Result, the values that go in and come out.
//
// Pipelining: send() queues a statement without waiting for it; query() queues
// one and waits for it and for everything queued before it, in one round trip.
// The first error among them is thrown (a unique violation, SQLSTATE 23505, as
// DuplicateError; anything else as StoreError naming the SQLSTATE) once the
// pipeline has been resynchronized, so the connection is usable again; an open
// transaction is then in the failed state until rolled back (to a savepoint).
// Each distinct SQL text is prepared once per connection, in the same round
// trip as its first use.
//
// libpq's own header stays in connection.cc. Thread-compatible: a Connection
// is used by one thread at a time (the store hands each to one thread).
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace comms::store::postgres {

// Statement parameters $1, $2, ... in order, sent as text. PostgreSQL text
// cannot hold NUL bytes: string values are stored with NUL escaped (U+E000 '0',
// and U+E000 itself doubled) and Result::text() undoes it, so every string
// round-trips and ordinary text is stored as it is.
class Params {
 public:
  Params& add(std::string_view v);
  Params& add(const std::string& v) { return add(std::string_view(v)); }
  Params& add(const char* v) { return add(std::string_view(v)); }
  Params& add(std::int64_t v);
  Params& add(int v) { return add(static_cast<std::int64_t>(v)); }
  Params& add(bool v) { return add(static_cast<std::int64_t>(v ? 1 : 0)); }
  Params& add_null();

  int size() const { return static_cast<int>(text_.size()); }
  // Pointers into this object: valid until it changes or dies.
  std::vector<const char*> values() const;

 private:
  std::vector<std::string> text_;
  std::vector<bool> null_;
};

// A statement's result rows (text format). Columns and rows count from 0.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : res_(r) {}
  ~Result();
  Result(Result&& o) noexcept : res_(o.res_) { o.res_ = nullptr; }
  Result& operator=(Result&& o) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  bool empty() const { return rows() == 0; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;
  // The command tag: "INSERT 0 1", "COMMIT", or "ROLLBACK" for a COMMIT of a failed transaction.
  std::string command() const;
  bool is_null(int row, int col) const;
  std::string text(int row, int col) const;
  // 0 for NULL; StoreError when the value is not an integer.
  std::int64_t int64(int row, int col) const;
  int int32(int row, int col) const { return static_cast<int>(int64(row, col)); }

 private:
  PGresult* res_ = nullptr;
};

class Connection {
 public:
  // Connects with `url` (postgres://user:password@host:port/db?param=value,
  // or a key=value conninfo) and enters pipeline mode. Throws StoreError
  // naming host, port and database, never the password, when it cannot.
  explicit Connection(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Queues a statement whose result nobody needs; an error it raises is
  // thrown by the next query()/wait()/sync(). `control` marks transaction
  // control (BEGIN, SAVEPOINT, RELEASE), which unchecked() does not count.
  void send(std::string_view sql, const Params& params = {}, bool control = false);
  // Runs a statement after what is queued and returns its result; with
  // `then_sync`, ends the pipeline segment after it (see sync()).
  Result query(std::string_view sql, const Params& params = {}, bool then_sync = false);
  // Waits for everything queued.
  void wait();
  // Waits for everything queued and ends the pipeline segment (Sync). Outside
  // a transaction block this commits what was sent in implicit transactions.
  void sync();
  // Sends a Sync without waiting; its outcome is read by the next wait.
  void sync_later();
  // Drops whatever is queued, ignoring errors, and resynchronizes. Never throws.
  void discard() noexcept;
  // discard(), then rolls back the open transaction, if any. Never throws.
  void rollback() noexcept;
  // True when non-control statements were sent and not yet waited for.
  bool unchecked() const { return unchecked_ > 0; }

  // Runs a script of several statements with the simple protocol (leaving
  // pipeline mode for it). Nothing may be queued.
  void script(std::string_view sql);

  // False once the server connection is lost; such a connection only fails.
  bool ok() const;
  // "host:port/database", for messages.
  const std::string& target() const { return target_; }

 private:
  struct Pending {
    enum class Kind { prepare, statement, sync } kind;
    bool keep;        // the caller wants this result
    std::string sql;  // for prepare: the cache key to forget if it fails; else for messages
  };
  struct Failure;

  const std::string& prepared_name(std::string_view sql);
  void push(Pending::Kind kind, bool keep, std::string_view sql);
  // Flushes and reads the results of everything queued; returns the last kept one.
  Result drain(bool sync_after);
  [[noreturn]] void lost(std::string_view during);

  PGconn* conn_ = nullptr;
  std::string target_;
  std::string password_;                                   // to redact from messages
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::deque<Pending> pending_;
  int unchecked_ = 0;
  bool broken_ = false;
};

}  // namespace comms::store::postgres
