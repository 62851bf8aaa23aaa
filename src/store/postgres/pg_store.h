// The PostgreSQL backend of store::Store (scale-out: several instances share
// one database).
//
// Writer threads (StoreOptions::write_threads) each own a connection in
// pipeline mode and commit the units of work they take from one queue in
// groups: one transaction per group, each unit inside its own SAVEPOINT (a
// unit that throws is rolled back alone), one COMMIT and one round trip for it
// per group. Transaction control and writes whose result the unit does not
// need travel in the same round trip as the unit's next statement. Reader threads each own a connection and
// run read units in REPEATABLE READ, READ ONLY transactions. A lost connection fails the units that were
// using it and is reopened for the next group. Thread-safe, as store.h requires. docs/postgres.md has the
// whole picture.
#pragma once
#include <memory>
#include <string>

#include "store/store.h"

namespace comms::store::postgres {

// Connects options.write_threads writers and options.read_threads readers to `url`
// (postgres://user:password@host:port/db?param=value). Throws StoreError naming
// host, port and database (never the password) when the server cannot be reached.
std::unique_ptr<Store> open_pg_store(const std::string& url, const StoreOptions& options);

}  // namespace comms::store::postgres
