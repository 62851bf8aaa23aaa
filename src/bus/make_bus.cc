#include "bus/make_bus.h"

#include <stdexcept>

#include "bus/inprocess/inprocess_bus.h"
#include "bus/rabbitmq/rabbitmq_bus.h"

namespace comms::bus {

std::unique_ptr<MessageBus> make_bus(const BusOptions& options, boost::asio::io_context& io,
                                     metrics::Registry& registry) {
  if (options.url.empty() || options.url == "inprocess") {
    InProcessOptions o;
    o.ns = options.ns;
    o.queue = options.queue;
    o.retry_limit = options.retry_limit;
    return std::make_unique<InProcessBus>(io, registry, o);
  }
  return std::make_unique<rabbitmq::RabbitMqBus>(io, registry, options);
}

}  // namespace comms::bus
