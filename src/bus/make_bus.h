// Chooses and builds the MessageBus named by COMMS_BUS. The app reads the
// configuration into BusOptions and hands them here; no bus code reads the
// environment.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "bus/message_bus.h"

namespace boost::asio {
class io_context;
}
namespace comms::metrics {
class Registry;
}

namespace comms::bus {

struct BusOptions {
  std::string url = "inprocess";                     // "inprocess" or amqp://user:pass@host:port/vhost
  std::string ns = "IntelliFin.Contracts";           // MassTransit namespace of the message types
  std::string queue = "communications";              // the receive endpoint (queue and exchange)
  int prefetch = 256;                                // unacknowledged deliveries (and concurrent handlers)
  int retry_limit = 3;                               // consumer calls repeated before a message is faulted
  std::chrono::milliseconds publish_timeout{10000};  // a publish waits this long for a connection
  std::chrono::milliseconds reconnect_min{250};      // reconnect backoff: doubles up to reconnect_max
  std::chrono::milliseconds reconnect_max{10000};
  int heartbeat_seconds = 30;
};

// The bus for options.url. Throws std::invalid_argument for a URL that is
// neither "inprocess" nor a valid amqp:// URL (the message names COMMS_BUS but
// never the password). `io` and `registry` must outlive the bus.
std::unique_ptr<MessageBus> make_bus(const BusOptions& options, boost::asio::io_context& io,
                                     metrics::Registry& registry);

}  // namespace comms::bus
