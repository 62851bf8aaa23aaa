#include "delivery/resilience/bulkhead.h"

#include <memory>
#include <stdexcept>

#include "common/async.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace comms::delivery {

void ensure_curl_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
  });
}

ProviderResult not_sent_stopped(const std::string& provider) {
  return ProviderResult::failed(Fault::unavailable, provider, "not sent: provider shutting down");
}

ProviderResult not_sent_waited(const std::string& provider) {
  return ProviderResult::failed(Fault::unavailable, provider, "not sent: waited too long for a connection");
}

boost::asio::awaitable<ProviderResult> run_blocking(Bulkhead& bulkhead, const std::string& provider,
                                                    std::chrono::milliseconds max_wait,
                                                    std::function<ProviderResult(CURL*)> call) {
  ProviderResult result;
  const auto queued = std::chrono::steady_clock::now();
  co_await await_callback([&](Callback done) {
    bulkhead.post([&, queued, done = std::move(done)](CURL* h) {
      if (!h) {
        result = not_sent_stopped(provider);
      } else if (std::chrono::steady_clock::now() - queued > max_wait) {
        result = not_sent_waited(provider);
      } else {
        result = call(h);
      }
      done(nullptr);
    });
  });
  co_return result;
}

Bulkhead::Bulkhead(std::string name, int threads) : name_(std::move(name)) {
  ensure_curl_initialized();
  if (threads < 1) threads = 1;
  workers_.reserve(threads);
  for (int i = 0; i < threads; ++i) workers_.push_back(named_thread("bh-" + name_, [this] { run(); }));
}

Bulkhead::~Bulkhead() {
  join();
}

void Bulkhead::join() {
  stop();
  std::call_once(joined_, [this] {
    for (auto& t : workers_) t.join();
  });
}

void Bulkhead::post(Job job, TimePoint not_before) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push(Item{not_before, seq_++, std::move(job)});
      cv_.notify_one();
      return;
    }
  }
  job(nullptr);
}

void Bulkhead::stop() {
  std::vector<Job> cancelled;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    while (!queue_.empty()) {
      cancelled.push_back(std::move(const_cast<Item&>(queue_.top()).job));
      queue_.pop();
    }
  }
  cv_.notify_all();
  for (auto& job : cancelled) job(nullptr);
}

std::size_t Bulkhead::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void Bulkhead::run() {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(), &curl_easy_cleanup);
  if (!handle) log::error("curl_init_failed", {{"pool", name_}});
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopping_) return;
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const TimePoint due = queue_.top().not_before;
    if (due > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, due);
      continue;
    }
    Job job = std::move(const_cast<Item&>(queue_.top()).job);
    queue_.pop();
    lock.unlock();
    job(handle.get());
    job = nullptr;  // release what the job captured before sleeping
    lock.lock();
  }
}

}  // namespace comms::delivery
