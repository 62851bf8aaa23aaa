// The SQLite schema as ordered migration steps, and the runner that applies
// them. Thread-compatible: the runner uses the connection it is given, which
// must be the writer's.
#pragma once
#include <span>

#include "store/migration.h"
#include "store/sqlite/connection.h"

namespace comms::store::sqlite {

// Steps 1..N in order; the same versions and names as every other backend.
std::span<const Migration> migrations();

// The highest applied version (0 for an empty database). Works on any connection.
int current_schema_version(Connection& c);

// Applies the steps of `steps` newer than the database, each in its own
// IMMEDIATE transaction with its schema_migrations row; returns how many ran.
// Safe against another process migrating the same file at the same time.
// StoreError naming the step when one fails (earlier steps stay applied), or
// when the database is newer than `steps`.
int apply_migrations(Connection& c, std::span<const Migration> steps);

}  // namespace comms::store::sqlite
