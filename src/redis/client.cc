#include "redis/client.h"

#include "common/async.h"
#include "common/thread_name.h"

namespace comms::redis {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{2000};

}  // namespace

Client::Client(ClientOptions options, Health& health) : options_(std::move(options)), health_(health) {
  for (int i = 0; i < std::max(1, options_.connections); ++i)
    workers_.push_back(named_thread("redis", [this] { worker(); }));
}

Client::~Client() { stop(); }

void Client::stop() {
  std::deque<Job> left;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
  for (auto& job : left) job.done(Result::failure("redis client stopped"));
}

void Client::submit(std::string op, Work work, Done done) {
  {
    std::unique_lock lock(mu_);
    if (!stopping_ && queue_.size() < options_.max_queue) {
      queue_.push_back({std::move(op), std::move(work), std::move(done), Clock::now()});
      lock.unlock();
      cv_.notify_one();
      return;
    }
  }
  health_.count_error(op);
  done(Result::failure("redis queue full or client stopped"));
}

void Client::submit(std::string op, std::vector<Command> commands, Done done) {
  submit(
      std::move(op), [commands = std::move(commands)](Connection& c) { return c.run(commands); }, std::move(done));
}

boost::asio::awaitable<Result> Client::run(std::string op, Work work) {
  Result out;
  co_await await_callback([&](Callback cb) {
    submit(std::move(op), std::move(work), [&out, cb = std::move(cb)](Result r) {
      out = std::move(r);
      cb(nullptr);
    });
  });
  co_return out;
}

boost::asio::awaitable<Result> Client::run(std::string op, std::vector<Command> commands) {
  return run(std::move(op), [commands = std::move(commands)](Connection& c) { return c.run(commands); });
}

void Client::worker() {
  Connection conn(options_.url, options_.timeout);
  auto next_attempt = Clock::now();
  auto backoff = kMinBackoff;
  if (const std::string e = conn.ensure(); e.empty()) {
    health_.ok();
  } else {
    health_.failed("connect", e);
    next_attempt = Clock::now() + backoff;
  }
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Result r = execute(conn, job, next_attempt, backoff);
    job.done(std::move(r));
  }
}

Result Client::execute(Connection& conn, Job& job, Clock::time_point& next_attempt, std::chrono::milliseconds& backoff) {
  const auto now = Clock::now();
  if (now - job.queued > options_.timeout) {
    health_.count_error(job.op);
    return Result::failure("timed out waiting for a redis connection");
  }
  if (conn.dropped()) conn.close();  // e.g. Redis restarted while this worker was idle
  if (!conn.connected()) {
    // While another connection gets answers, Redis is back: reconnect now rather than after backoff.
    if (now < next_attempt && !health_.up()) {
      health_.count_error(job.op);
      return Result::failure("redis unavailable: " + health_.last_error());
    }
    if (std::string e = conn.ensure(); !e.empty()) {
      next_attempt = Clock::now() + backoff;
      backoff = std::min(backoff * 2, kMaxBackoff);
      health_.failed(job.op, e);
      return Result::failure(std::move(e));
    }
    backoff = kMinBackoff;
  }
  const auto started = Clock::now();
  Result r = job.work(conn);
  if (r.ok()) {
    health_.ok(started);
  } else {
    health_.failed(job.op, r.error);  // the connection was closed; the next job reconnects
  }
  return r;
}

}  // namespace comms::redis
