// Job, the work handed to a connection-owning SQLite store thread, and the
// queue those threads consume. Thread-safe.
#pragma once
#include <functional>

#include "store/job_queue.h"
#include "store/sqlite/connection.h"
#include "store/store.h"

namespace comms::store::sqlite {

// Work for one connection-owning thread; `done` gets its outcome. A
// standalone job (a migration) runs alone, outside any transaction.
struct Job {
  std::function<void(Connection&)> run;
  Done done;
  bool standalone = false;
};

using JobQueue = detail::JobQueue<Job>;

}  // namespace comms::store::sqlite
