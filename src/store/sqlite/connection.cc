#include "store/sqlite/connection.h"

#include <mutex>

#include "store/sql_text.h"
#include "store/store.h"

namespace comms::store::sqlite {
namespace {}  // namespace

void throw_sqlite_error(sqlite3* db, int rc, std::string_view context) {
  std::string msg = "sqlite: ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  msg += " (";
  msg += context;
  msg += ')';
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) throw DuplicateError(msg);
  throw StoreError(msg);
}

namespace {
// Once per process, before the first connection initializes the library: no memory statistics.
// With them on (the default), every sqlite3_malloc/free takes a process-wide mutex, which showed as
// ~6% of the service's CPU under load (perf, BENCHMARKS.md issue 2); nothing here reads them.
void configure_library() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}
}  // namespace

Connection::Connection(const std::string& path, Mode mode) {
  configure_library();
  const int flags =
      (mode == Mode::read_write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg =
        "cannot open SQLite database '" + path + "': " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close_v2(db_);  // a handle is returned even on failure
    db_ = nullptr;
    throw StoreError(msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

void Connection::exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);  // the same text is available through sqlite3_errmsg
  if (rc != SQLITE_OK) throw_sqlite_error(db_, sqlite3_extended_errcode(db_), excerpt(sql));
}

void Connection::rollback_quietly() noexcept {
  if (in_transaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

sqlite3_stmt* Connection::cached(std::string_view sql) {
  std::string key(sql);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT,
                                    &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    throw_sqlite_error(db_, rc, "prepare: " + excerpt(sql));
  }
  cache_.emplace(std::move(key), stmt);
  return stmt;
}

Statement::Statement(Connection& c, std::string_view sql) : conn_(c), stmt_(c.cached(sql)) {}

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::check_bind(int rc, int index) {
  if (rc != SQLITE_OK)
    throw_sqlite_error(conn_.handle(), rc,
                       "bind parameter " + std::to_string(index) + ": " + excerpt(sqlite3_sql(stmt_)));
}

Statement& Statement::bind(int index, std::int64_t v) {
  check_bind(sqlite3_bind_int64(stmt_, index, v), index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view v) {
  check_bind(sqlite3_bind_text64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  return *this;
}

Statement& Statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw_sqlite_error(conn_.handle(), rc, excerpt(sqlite3_sql(stmt_)));
}

int Statement::run() {
  while (step()) {
  }
  return sqlite3_changes(conn_.handle());
}

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

}  // namespace comms::store::sqlite
