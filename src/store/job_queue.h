// JobQueue, the queue that connection-owning store threads consume (every
// backend's writer and readers), and run_blocking, which waits for one job.
// Thread-safe.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "store/store.h"
#include "store/store_thread.h"

namespace comms::store::detail {

// A FIFO of jobs that can be closed: closing refuses new jobs while the
// consumers drain the ones already queued. `Job` has a `bool standalone`: a
// standalone job is handed out alone, never grouped with others.
template <class Job>
class JobQueue {
 public:
  // False (and `job` untouched) once closed.
  bool push(Job& job) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return false;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }
  // Waits for jobs and moves into `out` either one standalone job or up to
  // `max` consecutive others; false when the queue is closed and drained.
  bool pop(std::size_t max, std::vector<Job>& out) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
    if (jobs_.empty()) return false;
    const bool alone = jobs_.front().standalone;
    do {
      out.push_back(std::move(jobs_.front()));
      jobs_.pop_front();
    } while (!alone && out.size() < max && !jobs_.empty() && !jobs_.front().standalone);
    return true;
  }
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;  // guarded by mu_
  bool closed_ = false;   // guarded by mu_
};

// Runs `run` as a standalone job of `queue` and waits for it; rethrows what it
// threw. StoreError when the queue is closed, or when called on a store thread
// (it would deadlock). `Job` is {run, done, standalone}.
template <class Job>
void run_blocking(JobQueue<Job>& queue, decltype(Job::run) run) {
  if (on_store_thread()) throw StoreError("blocking store call on a store thread (it would deadlock)");
  auto promise = std::make_shared<std::promise<void>>();
  auto result = promise->get_future();
  Job job{std::move(run),
          [promise](std::exception_ptr e) {
            if (e)
              promise->set_exception(e);
            else
              promise->set_value();
          },
          true};
  if (!queue.push(job)) throw StoreError("store closed");
  result.get();
}

}  // namespace comms::store::detail
