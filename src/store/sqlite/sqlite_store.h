// The embedded SQLite backend of store::Store.
//
// One writer thread owns the read-write connection and commits queued units of
// work in groups (one fsync per group, each unit in its own SAVEPOINT); reader
// threads each own a read-only connection and run read units concurrently with
// the writer (WAL). Thread-safe, as store.h requires.
#pragma once
#include <memory>
#include <string>

#include "store/store.h"

namespace comms::store::sqlite {

// Opens the database file at `path` (":memory:" = a throwaway file in a fresh
// temporary directory), creating missing parent directories, with WAL,
// busy_timeout and foreign keys on. Throws StoreError naming the problem.
std::unique_ptr<Store> open_sqlite_store(const std::string& path, const StoreOptions& options);

}  // namespace comms::store::sqlite
