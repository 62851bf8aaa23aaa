// Helpers for threads owned by a Store: marking them, so blocking helpers can
// refuse to run there instead of deadlocking, and calling a unit of work's
// Done. Internal to the store module. Thread-safe (per-thread state).
#pragma once
#include <cstddef>
#include <exception>
#include <string>
#include <vector>

#include "store/store.h"

namespace comms::store::detail {

// Called once by each store-owned thread when it starts.
void mark_store_thread();
bool on_store_thread();

// Calls `done` (if set) with `e`; what it throws is logged, never propagated.
void call_done(const Done& done, std::exception_ptr e);

// The message of the exception in `e`.
std::string what_of(const std::exception_ptr& e);

// Group commit: units [first, end) of a group that had succeeded did not
// commit after all; each gets StoreError(why).
void fail_committed(std::vector<std::exception_ptr>& results, std::size_t first, std::size_t end,
                    const std::string& why);

}  // namespace comms::store::detail
