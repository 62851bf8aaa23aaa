// Marks threads owned by a Store, so blocking helpers can refuse to run there
// instead of deadlocking. Internal to the store module. Thread-safe (per-thread
// state).
#pragma once

namespace comms::store::detail {

// Called once by each store-owned thread when it starts.
void mark_store_thread();
bool on_store_thread();

}  // namespace comms::store::detail
