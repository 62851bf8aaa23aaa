// The PostgreSQL schema as ordered migration steps, and the runner that applies
// them. Thread-compatible: the runner uses the connection it is given.
#pragma once
#include <span>

#include "store/migration.h"
#include "store/postgres/connection.h"

namespace comms::store::postgres {

// Steps 1..N, the same versions, names and tables as SQLite's: the schema is
// written once in the portable subset kept by store/sqlite/migrations.cc, and
// its one SQLite-only construct (INTEGER PRIMARY KEY AUTOINCREMENT) becomes
// BIGSERIAL PRIMARY KEY here.
std::span<const Migration> migrations();

// The highest applied version (0 for an empty schema).
int current_schema_version(Connection& c);

// Applies the steps newer than the database, each in its own transaction with
// its schema_migrations row, under a transaction-scoped advisory lock keyed by
// the current schema, so that several processes migrating at once apply each
// step exactly once. Returns how many this call applied. StoreError naming the
// step when one fails (earlier steps stay applied), or when the database is
// newer than this binary.
int apply_migrations(Connection& c);

}  // namespace comms::store::postgres
