#include "store/postgres/migrations.h"

#include <string>
#include <vector>

#include "common/clock.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"

namespace comms::store::postgres {
namespace {

constexpr std::string_view kCreateLedger =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

// Serializes migrations of one schema across processes until the transaction ends.
constexpr std::string_view kLock =
    "SELECT pg_advisory_xact_lock(hashtext('comms.schema_migrations:' || COALESCE(current_schema(), '')))";

std::string translate(std::string_view sqlite_sql) {
  constexpr std::string_view kFrom = "INTEGER PRIMARY KEY AUTOINCREMENT";
  constexpr std::string_view kTo = "BIGSERIAL PRIMARY KEY";
  std::string out(sqlite_sql);
  for (auto pos = out.find(kFrom); pos != std::string::npos; pos = out.find(kFrom, pos + kTo.size()))
    out.replace(pos, kFrom.size(), kTo);
  return out;
}

struct Steps {
  std::vector<std::string> sql;  // owns the translated text the steps point into
  std::vector<Migration> steps;
  Steps() {
    const auto portable = sqlite::migrations();
    sql.reserve(portable.size());
    for (const Migration& m : portable) sql.push_back(translate(m.sql));
    for (std::size_t i = 0; i < portable.size(); ++i)
      steps.push_back({portable[i].version, portable[i].name, sql[i]});
  }
};

[[noreturn]] void newer_than_binary(int current, int latest) {
  throw StoreError("database schema version " + std::to_string(current) +
                   " is newer than this binary's latest " + std::to_string(latest));
}

}  // namespace

std::span<const Migration> migrations() {
  static const Steps steps;
  return steps.steps;
}

int current_schema_version(Connection& c) {
  if (c.query("SELECT to_regclass('schema_migrations') IS NULL").text(0, 0) == "t") return 0;
  return c.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").int32(0, 0);
}

int apply_migrations(Connection& c) {
  const auto steps = migrations();
  const int latest = latest_version(steps);
  const int before = current_schema_version(c);
  c.sync();  // ends the implicit transaction of the check
  if (before > latest) newer_than_binary(before, latest);
  if (before == latest) return 0;
  int ran = 0;
  for (const Migration& m : steps) {
    if (m.version <= before) continue;
    int current = 0;
    try {
      c.send("BEGIN", {}, true);
      c.query(kLock);
      c.script(kCreateLedger);
      current = c.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").int32(0, 0);
      if (current < m.version) {
        c.script(m.sql);
        c.send("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
               Params().add(m.version).add(m.name).add(now_ms()));
      }
      c.query(current > latest ? "ROLLBACK" : "COMMIT");
    } catch (const std::exception& e) {
      c.rollback();
      throw StoreError("migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                       ") failed: " + e.what());
    }
    if (current > latest) newer_than_binary(current, latest);
    if (current < m.version) ++ran;  // else another process got there first
  }
  return ran;
}

}  // namespace comms::store::postgres
