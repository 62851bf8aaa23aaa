// The durable dispatcher: claims due notifications from the store (Pending rows
// whose nextAttemptAt has come, or Sending rows whose lease expired after a
// crash), renders and sends each through its Channel, and records the outcome
// together with its outbox event in one unit of work.
//
// Retries: transient failures are retried with exponential backoff and jitter
// until max_attempts; then, and on any permanent failure, the notification is
// Failed with its last error.
//
// Thread-safety: wake() may be called from any thread; start()/stop() from the
// owner. The dispatcher must outlive every coroutine it spawned, which stop()
// guarantees by waiting for them (or for the timeout, after which abandoned
// sends stay claimed until their lease expires).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "delivery/channel.h"
#include "delivery/recipient_directory.h"
#include "delivery/renderer.h"
#include "store/store.h"

namespace boost::asio {
class io_context;
}

namespace comms::delivery {

struct DispatcherOptions {
  int concurrency = 64;
  int batch = 128;
  int max_attempts = 4;
  std::chrono::milliseconds retry_base{2000};
  std::chrono::milliseconds retry_max{300000};
  std::chrono::milliseconds lease{60000};
  std::chrono::milliseconds poll{1000};
};

// Called after each outcome is committed (for metrics and real-time fan-out).
using OutcomeHook = std::function<void(const domain::Notification& after, const SendResult& result)>;

// Delay before attempt `attempt + 1`, given `attempt` attempts so far (>= 1):
// base * 2^(attempt-1), capped at max, with "equal jitter" (half fixed, half
// random) so that a burst of failures does not retry in lockstep.
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max);

class Dispatcher {
 public:
  // `directory` finds a notification's address, locale and time zone (through the cache).
  Dispatcher(boost::asio::io_context& io, store::Store& store, Channels channels, Renderer& renderer,
             RecipientDirectory& directory, DispatcherOptions options, OutcomeHook hook = {});
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  // New work may be due now (a notification was just accepted).
  void wake();
  // Stops claiming and waits up to `timeout` for in-flight sends.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds timeout);
  std::int64_t in_flight() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace comms::delivery
