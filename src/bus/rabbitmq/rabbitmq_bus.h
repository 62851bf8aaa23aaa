// The RabbitMQ bus (COMMS_BUS=amqp://...), wire-compatible with MassTransit:
// its topology (see consume_loop.h), its JSON envelope, and its error and
// skipped queues (a message that cannot be decoded, or faults, or runs out of
// retries is moved to <queue>_error with MT-Reason "fault" and MT-Fault-*
// headers; a message without a consumer to <queue>_skipped with MT-Reason
// "dead-letter"; both with MT-Host-* headers and the original body and
// properties; the delivery is acknowledged only once the move is confirmed).
//
// Two connections, each owned by its own thread (rabbitmq-c is blocking and
// not thread-safe): one consumes, one publishes with publisher confirms.
// Handlers run as coroutines on the io_context; nothing blocks an I/O thread.
// Both connections reconnect with exponential backoff; deliveries that were
// not acknowledged before a connection dropped are redelivered by the broker.
//
// Thread-safety: as MessageBus.
#pragma once
#include <atomic>
#include <memory>

#include "bus/bus_metrics.h"
#include "bus/make_bus.h"
#include "bus/message_bus.h"
#include "bus/rabbitmq/amqp_connection.h"
#include "bus/receiver.h"

namespace comms::bus::rabbitmq {

class ConsumeLoop;
class PublishLoop;
struct Delivery;

class RabbitMqBus : public MessageBus {
 public:
  // Throws std::invalid_argument when options.url is not a valid amqp:// URL.
  RabbitMqBus(boost::asio::io_context& io, metrics::Registry& registry, const BusOptions& options);
  ~RabbitMqBus() override;

  void subscribe(const std::string& type, Consumer consumer) override;
  void start() override;
  boost::asio::awaitable<void> publish(const std::string& type, const std::string& message_json,
                                       PublishOptions options) override;
  boost::asio::awaitable<void> stop(std::chrono::milliseconds timeout) override;
  bool connected() const override;
  std::string name() const override { return "rabbitmq"; }
  std::uint64_t publish_epoch() const override;

  // Deliveries being handled right now (at most the prefetch).
  int in_flight() const { return *in_flight_; }

 private:
  boost::asio::awaitable<void> handle(Delivery d);
  boost::asio::awaitable<bool> move(const Delivery& d, const Verdict& v);

  boost::asio::io_context& io_;
  const BusOptions options_;
  const ConnectionParams params_;
  BusMetrics metrics_;
  Receiver receiver_;
  std::unique_ptr<PublishLoop> publisher_;
  std::unique_ptr<ConsumeLoop> consumer_;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<std::atomic<int>> in_flight_ = std::make_shared<std::atomic<int>>(0);
};

}  // namespace comms::bus::rabbitmq
