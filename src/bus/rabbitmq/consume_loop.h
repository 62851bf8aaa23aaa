// The consuming side of the RabbitMQ bus: one thread owning one connection.
// On every (re)connect it declares the receive endpoint's topology as
// MassTransit does, sets the prefetch, and consumes the queue with manual
// acknowledgements. Deliveries are handed to `on_delivery` (which must not
// block: it posts to the io_context); acknowledgements come back through
// ack() and are sent by this thread, the only one that touches the connection.
//
// Topology (all durable fanout exchanges and durable queues, no arguments):
//   <queue> exchange -> <queue> queue
//   <Namespace:Type> exchange -> <queue> exchange, for every consumed type
//   <queue>_error exchange -> <queue>_error queue
//   <queue>_skipped exchange -> <queue>_skipped queue
//
// Thread-safety: ack(), cancel(), close() and connected() from any thread.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bus/bus_metrics.h"
#include "bus/rabbitmq/amqp_connection.h"
#include "bus/rabbitmq/properties.h"

namespace comms::bus::rabbitmq {

struct Delivery {
  std::uint64_t generation = 0;  // which connection delivered it; acks for an older one are dropped
  std::uint64_t tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::string body;
  Properties properties;
};

struct ConsumeOptions {
  std::string queue = "communications";
  std::vector<std::string> type_exchanges;  // "IntelliFin.Contracts:LoanApplicationCreated", ...
  int prefetch = 256;
  std::chrono::milliseconds reconnect_min{250};
  std::chrono::milliseconds reconnect_max{10000};
};

class ConsumeLoop {
 public:
  using OnDelivery = std::function<void(Delivery&&)>;

  ConsumeLoop(ConnectionParams params, ConsumeOptions options, BusMetrics& metrics, OnDelivery on_delivery);
  ~ConsumeLoop();  // close() if still running, and join
  ConsumeLoop(const ConsumeLoop&) = delete;
  ConsumeLoop& operator=(const ConsumeLoop&) = delete;

  void start();
  // Acknowledges delivery `tag` of connection `generation` (coalesced into
  // multiple-acks where the tags allow).
  void ack(std::uint64_t generation, std::uint64_t tag);
  // Cancels the consumer: nothing new is handed out; acks still flow.
  void cancel();
  // Sends the queued acks and closes; unacknowledged deliveries go back to the
  // queue. `closed` runs on the loop thread as its last action.
  void close(std::function<void()> closed);
  bool connected() const { return connected_; }

 private:
  void run();
  void declare_topology(Connection& c);
  void session(Connection& c, std::uint64_t generation);

  const ConnectionParams params_;
  const ConsumeOptions options_;
  BusMetrics& metrics_;
  const OnDelivery on_delivery_;
  WakeFd wake_;
  std::atomic<bool> connected_{false};
  std::thread thread_;

  std::mutex mu_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> acks_;  // guarded by mu_; (generation, tag)
  bool cancelled_ = false;                                     // guarded by mu_
  bool closing_ = false;                                       // guarded by mu_
  std::function<void()> closed_;                               // guarded by mu_
  std::condition_variable cv_;                                 // signals closing_ during reconnect backoff
};

}  // namespace comms::bus::rabbitmq
