// Running a unit of work from a coroutine: the awaitable twins of write_sync/read_sync. The work is
// submitted, the coroutine suspends, and it resumes on its own executor once the unit committed
// (write) or finished (read), rethrowing whatever aborted it. Kept out of store.h so that Asio stays
// out of the store's widely included interface.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <utility>

#include "common/async.h"
#include "store/store.h"

namespace comms::store {

inline boost::asio::awaitable<void> write_async(Store& s, Work work) {
  co_await await_callback([&](Callback done) { s.submit_write(std::move(work), std::move(done)); });
}

inline boost::asio::awaitable<void> read_async(Store& s, Work work) {
  co_await await_callback([&](Callback done) { s.submit_read(std::move(work), std::move(done)); });
}

}  // namespace comms::store
