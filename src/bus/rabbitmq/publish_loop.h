// The publishing side of the RabbitMQ bus: one thread owning one connection,
// channel 1 in confirm mode for publishes, channel 2 for declaring the
// exchanges (and, for moves, the queues) it publishes to. Requests are written
// in the order they were queued; each completes when the broker confirms it.
//
// Thread-safety: publish() from any thread; close() once. Completion
// callbacks run on the loop thread and must be quick.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "bus/bus_metrics.h"
#include "bus/rabbitmq/amqp_connection.h"
#include "bus/rabbitmq/properties.h"

namespace comms::bus::rabbitmq {

struct PublishRequest {
  std::string exchange;     // declared (durable fanout) before the first publish on a connection
  bool bind_queue = false;  // also declare a durable queue named `exchange` bound to it (error/skipped)
  std::string routing_key;
  std::string body;
  Properties properties;
  std::string type_label;                          // for metrics
  std::chrono::steady_clock::time_point deadline;  // fail if not written by then (no connection)
  std::optional<std::uint64_t> epoch;              // fail if the connection was lost since (epoch())
  // Called once: nullptr when confirmed, else a PublishError.
  std::function<void(std::exception_ptr)> done;
};

class PublishLoop {
 public:
  PublishLoop(ConnectionParams params, std::chrono::milliseconds reconnect_min,
              std::chrono::milliseconds reconnect_max, BusMetrics& metrics);
  ~PublishLoop();  // close() with no drain time if still running
  PublishLoop(const PublishLoop&) = delete;
  PublishLoop& operator=(const PublishLoop&) = delete;

  void start();
  void publish(PublishRequest request);
  // Stops taking requests; writes what is queued and waits for confirms for
  // up to `drain`; fails the rest; closes. `closed` runs on the loop thread
  // as its last action.
  void close(std::chrono::milliseconds drain, std::function<void()> closed);
  bool connected() const { return connected_; }
  // Incremented each time the connection is lost, before the requests it had are failed.
  std::uint64_t epoch() const { return epoch_; }

 private:
  void run();
  void session(Connection& c);
  void fail_expired(bool all, const char* why);

  const ConnectionParams params_;
  const std::chrono::milliseconds reconnect_min_, reconnect_max_;
  BusMetrics& metrics_;
  WakeFd wake_;
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> epoch_{0};
  std::thread thread_;

  std::mutex mu_;
  std::deque<PublishRequest> queue_;                   // guarded by mu_
  bool closing_ = false;                               // guarded by mu_
  std::chrono::steady_clock::time_point drain_until_;  // guarded by mu_
  std::function<void()> closed_;                       // guarded by mu_
  std::condition_variable cv_;                         // signals closing_ during reconnect backoff
};

}  // namespace comms::bus::rabbitmq
