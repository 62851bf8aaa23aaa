// A bulkhead for one provider's blocking I/O: a fixed set of threads, each
// owning one libcurl easy handle for its whole life, so that connections
// (HTTP keep-alive, an authenticated SMTP session) are reused call after
// call. The thread count is the provider's concurrency cap; nothing blocking
// ever runs on an Asio I/O thread.
//
// Jobs run in order of their not-before time (FIFO among equal times). Each
// job is called exactly once: with the worker's handle, or with nullptr when
// the bulkhead stopped before the job started (the job must then finish
// without I/O, e.g. by reporting "not sent").
//
// Thread-safety: post() and stop() may be called from any thread, also from a
// job. The destructor stops the bulkhead and joins its threads; running jobs
// finish first (they are bounded by their own timeouts).
#pragma once
#include <curl/curl.h>

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "delivery/resilience/provider.h"

namespace comms::delivery {

class Bulkhead {
 public:
  using Job = std::function<void(CURL*)>;
  using TimePoint = std::chrono::steady_clock::time_point;

  Bulkhead(std::string name, int threads);
  ~Bulkhead();
  Bulkhead(const Bulkhead&) = delete;
  Bulkhead& operator=(const Bulkhead&) = delete;

  void post(Job job, TimePoint not_before = {});
  // Refuses new jobs and cancels queued ones (each is called with nullptr, on
  // the calling thread). Does not wait for running jobs. Idempotent.
  void stop();
  // stop(), then waits for the running jobs and the threads. Not from a job. Idempotent.
  void join();

  int threads() const { return static_cast<int>(workers_.size()); }
  std::size_t queued() const;

 private:
  struct Item {
    TimePoint not_before;
    std::uint64_t seq;
    Job job;
    bool operator>(const Item& o) const {
      return not_before != o.not_before ? not_before > o.not_before : seq > o.seq;
    }
  };
  void run();

  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue_;  // guarded by mu_
  std::uint64_t seq_ = 0;                                               // guarded by mu_
  bool stopping_ = false;                                               // guarded by mu_
  std::vector<std::thread> workers_;
  std::once_flag joined_;
};

// Runs `call` on one of the bulkhead's workers and resumes the calling coroutine (on its own
// executor) with the result. `call` is not run, and the result is "not sent" (unavailable), when the
// bulkhead stopped first or the job waited longer than `max_wait` for a free worker.
boost::asio::awaitable<ProviderResult> run_blocking(Bulkhead& bulkhead, const std::string& provider,
                                                    std::chrono::milliseconds max_wait,
                                                    std::function<ProviderResult(CURL*)> call);

// The two "not sent" results of a job that never ran.
ProviderResult not_sent_stopped(const std::string& provider);
ProviderResult not_sent_waited(const std::string& provider);

// curl_global_init, once per process (thread-safe).
void ensure_curl_initialized();

}  // namespace comms::delivery
