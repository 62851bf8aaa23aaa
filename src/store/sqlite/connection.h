// One SQLite connection with its cache of prepared statements, and Statement,
// the scoped use of one cached statement.
//
// Errors become store exceptions carrying sqlite3_errmsg: a PRIMARY KEY or
// UNIQUE violation is DuplicateError, anything else StoreError.
// Thread-compatible: a Connection is used by one thread at a time (the store
// hands each to exactly one thread), and so are its Statements.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace comms::store::sqlite {

// Throws DuplicateError or StoreError for result code `rc` on `db`.
[[noreturn]] void throw_sqlite_error(sqlite3* db, int rc, std::string_view context);

class Connection {
 public:
  enum class Mode { read_write, read_only };

  // Opens (creating, in read_write mode) the database file at `path`.
  // Throws StoreError when the file cannot be opened.
  Connection(const std::string& path, Mode mode);
  // Finalizes every cached statement and closes the handle.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* handle() const { return db_; }
  // Runs one or more statements that return no rows we need.
  void exec(std::string_view sql);
  // The cached statement for `sql`, prepared on first use. It must be reset
  // after use (Statement does this).
  sqlite3_stmt* cached(std::string_view sql);
  // True while a transaction is open.
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  // Rolls back the open transaction, if any. Never throws: used on error paths.
  void rollback_quietly() noexcept;

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Binds, steps and reads one cached statement; resets it and clears its
// bindings on destruction so the next user starts clean. Parameters and
// columns are numbered as in SQLite (binds from 1, columns from 0).
class Statement {
 public:
  Statement(Connection& c, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t v);
  Statement& bind(int index, int v) { return bind(index, static_cast<std::int64_t>(v)); }
  Statement& bind(int index, bool v) { return bind(index, static_cast<std::int64_t>(v ? 1 : 0)); }
  Statement& bind(int index, std::string_view v);
  Statement& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
  Statement& bind(int index, const char* v) { return bind(index, std::string_view(v)); }
  Statement& bind_null(int index);

  // True when a row is available; false when done. Throws on error.
  bool step();
  // Steps to completion; returns the number of rows changed.
  int run();
  // Makes the statement ready to run again (bindings are kept until rebound).
  void reset() { sqlite3_reset(stmt_); }

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  int int32(int col) const { return sqlite3_column_int(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;

 private:
  void check_bind(int rc, int index);

  Connection& conn_;
  sqlite3_stmt* stmt_;
};

}  // namespace comms::store::sqlite
