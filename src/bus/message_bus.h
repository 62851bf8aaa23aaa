// The message bus: how domain events arrive and how the service publishes its
// own (NotificationSent, NotificationDelivered, NotificationFailed), in
// MassTransit's envelope and topology. Two implementations behind this
// interface, selected by COMMS_BUS (see bus/make_bus.h): the in-process bus
// (embedded default, bus/inprocess) and RabbitMQ (bus/rabbitmq, via rabbitmq-c).
//
// Delivery contract: at-least-once. A consumed message is acknowledged only
// after its handler's coroutine completed with Outcome::done (its effects are
// committed); a redelivery must therefore be harmless (intake's inbox makes it
// so). Handlers run on the io_context given at construction, concurrently (up
// to the implementation's prefetch). A handler that returns retry, or throws,
// is called again up to the bus's retry limit; then the message is faulted.
// Faulted, undecodable and unroutable messages are never dropped silently:
// RabbitMQ moves them to `<queue>_error` / `<queue>_skipped`; the in-process
// bus counts, logs and keeps them in a bounded dead-letter list.
//
// Thread-safety: subscribe() before start(); publish() from any thread or
// coroutine after start(); stop() once. connected() from any thread.
// Lifetime: the io_context must outlive the bus; destroy the bus after stop()
// completed or after the io_context stopped running.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace comms::bus {

// A message as MassTransit frames it (application/vnd.masstransit+json).
// Absent or null envelope fields are empty strings.
struct Envelope {
  std::string message_id;
  std::string request_id;
  std::string correlation_id;
  std::string conversation_id;
  std::string initiator_id;
  std::string source_address;
  std::string destination_address;
  std::string response_address;
  std::string fault_address;
  std::vector<std::string> message_type;  // "urn:message:IntelliFin.Contracts:LoanApplicationCreated", ...
  std::string message;                    // the payload object, as JSON text
  std::string expiration_time;            // ISO-8601, as sent
  std::string sent_time;                  // ISO-8601, as sent
  std::map<std::string, std::string> headers;  // non-string header values as JSON text
  std::string host_json;                       // the "host" object as JSON text ({} when absent)
  bool redelivered = false;                    // the broker says it may have been delivered before

  // "LoanApplicationCreated" for the first urn:message: entry; "" when none.
  std::string type_name() const;
};

// What a consumer decided about one message.
enum class Outcome {
  done,   // handled (or deliberately ignored); acknowledge
  retry,  // transient failure; call again (up to the retry limit), then fault
  fault,  // cannot ever succeed (bad payload); move to the error queue with the reason
};

struct HandleResult {
  Outcome outcome = Outcome::done;
  std::string reason;  // for retry and fault: becomes MT-Fault-Message
};

// Called once per delivery (and again per retry). The envelope stays valid
// until the returned coroutine completes.
using Consumer = std::function<boost::asio::awaitable<HandleResult>(const Envelope&)>;

struct PublishOptions {
  std::string message_id;  // empty: generated
  std::string correlation_id;
  std::string conversation_id;
  // For publishes whose order matters across a lost connection (the outbox relay): the value of
  // publish_epoch() the caller read before its first publish of the sequence. A publish that reaches
  // the wire after the bus lost its connection since then fails instead of going out on the new
  // connection ahead of the earlier ones that failed with the old one.
  std::optional<std::uint64_t> epoch;
};

// publish() could not get the broker to confirm the message (nack, connection
// lost before the confirm, broker unreachable for the publish timeout, bus
// stopped). The message may or may not have been delivered.
class PublishError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class MessageBus {
 public:
  virtual ~MessageBus() = default;

  // Routes messages whose message types include `type` (a type name such as
  // "LoanApplicationCreated", namespace ignored) to `consumer`. One consumer
  // per type; a second subscribe() of a type replaces the first. A message is
  // handled by the consumer of the first of its message types that has one;
  // messages without any go to the skipped queue.
  virtual void subscribe(const std::string& type, Consumer consumer) = 0;

  // Declares the topology and starts consuming. Throws std::invalid_argument
  // on a configuration error; a broker that is down is retried in the
  // background with backoff.
  virtual void start() = 0;

  // Publishes `message_json` (a JSON object) as message type `type` (exchange
  // "<namespace>:<type>" on RabbitMQ) in the MassTransit envelope. Completes
  // when the broker confirmed it (in-process: when the local consumer of the
  // type finished with it); throws PublishError when it could not, and
  // std::invalid_argument when `message_json` is not a JSON object.
  // Publishes are put on the wire in the order they were called.
  virtual boost::asio::awaitable<void> publish(const std::string& type, const std::string& message_json,
                                               PublishOptions options) = 0;

  // Stops consuming, lets running handlers finish (up to `timeout`), closes.
  // Messages not yet acknowledged are redelivered by the broker later.
  virtual boost::asio::awaitable<void> stop(std::chrono::milliseconds timeout) = 0;

  // True while the bus can consume and publish (in-process: always).
  virtual bool connected() const = 0;

  // "inprocess" or "rabbitmq".
  virtual std::string name() const = 0;

  // Changes whenever the publishing connection is lost (see PublishOptions::epoch). In process: 0.
  virtual std::uint64_t publish_epoch() const { return 0; }
};

}  // namespace comms::bus
