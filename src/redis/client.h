// The Redis command client: a few worker threads, each owning one blocking Connection, that run
// queued jobs off the I/O threads. Coroutines await a job with run(); other threads submit().
//
// Degradation, not failure: when Redis is unreachable a job fails at once with Result::error
// (a worker retries the connection with backoff, 100 ms doubling to 2 s, not on every job, and at
// once when Health says another connection got answers; an idle connection that Redis closed is
// replaced before use); a job
// that waited in the queue longer than the timeout, or finds the queue full, fails the same way.
// So a caller waits at most about two timeouts, and it always gets an answer. Every outcome is
// reported to the shared Health.
//
// Lifecycle: workers connect eagerly when constructed. stop() (idempotent; also the destructor)
// fails the queued jobs and joins the workers; call it before the io_context that awaiting
// coroutines run on is destroyed.
// Thread-safety: every method may be called from any thread, also from a job's callback.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "redis/connection.h"
#include "redis/health.h"

namespace comms::redis {

struct ClientOptions {
  RedisUrl url;
  std::chrono::milliseconds timeout{100};  // connect, each command, and the longest wait in the queue
  int connections = 4;                      // worker threads, one connection each
  std::size_t max_queue = 10'000;           // jobs waiting; more fail at once
};

class Client {
 public:
  using Work = std::function<Result(Connection&)>;
  using Done = std::function<void(Result)>;

  Client(ClientOptions options, Health& health);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs `work` on a worker's connected Connection and calls `done` on that worker thread (it must
  // not block). `op` labels errors in comms_redis_errors_total. A Result::error from `work`
  // counts as Redis being down.
  void submit(std::string op, Work work, Done done);
  // One pipeline of commands.
  void submit(std::string op, std::vector<Command> commands, Done done);
  // The same, awaited; the coroutine resumes on its own executor.
  boost::asio::awaitable<Result> run(std::string op, std::vector<Command> commands);
  boost::asio::awaitable<Result> run(std::string op, Work work);

  void stop();
  std::chrono::milliseconds timeout() const { return options_.timeout; }

 private:
  struct Job {
    std::string op;
    Work work;
    Done done;
    std::chrono::steady_clock::time_point queued;
  };
  void worker();
  Result execute(Connection& conn, Job& job, std::chrono::steady_clock::time_point& next_attempt,
                 std::chrono::milliseconds& backoff);

  const ClientOptions options_;
  Health& health_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace comms::redis
