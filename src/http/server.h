// The HTTP/1.1 server: Beast underneath, C++20 coroutines, the middleware chain of
// http/middleware.h around the Router's handlers.
//
// Lifecycle: construct, optionally set_upgrade_handler, start(), run the io_context (on any number
// of threads), co_await stop() on SIGTERM, then destroy. Each connection is a coroutine on its own
// strand, so a connection's state is single-threaded; handlers run on that strand. stop() closes
// the listener, closes idle keep-alive connections, lets in-flight requests finish (their responses
// carry Connection: close) for up to `grace`, then closes what is left. Destroying a Server that
// was not stopped closes the listener and the connections; coroutines still queued on the
// io_context keep the internals alive until they finish.
//
// Threading: start/port/stop may be called from any thread; set_upgrade_handler only before start.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/options.h"
#include "http/router.h"

namespace boost::asio {
class io_context;
}
namespace comms::metrics {
class Registry;
}

namespace comms::http {

class BucketStore;
struct UpgradeHandler;  // http/upgrade.h

class Server {
 public:
  // Builds the standard middleware chain from `options` (see standard_chain). `metrics`, and
  // whatever the router's handlers use, must outlive the io_context: coroutines still queued on it
  // when it is destroyed unwind through the middleware. `buckets` nullptr: per-process in-memory rate-limit
  // buckets. Throws std::invalid_argument on inconsistent options.
  Server(boost::asio::io_context& ioc, HttpOptions options, Router router, metrics::Registry& metrics,
         std::shared_ptr<BucketStore> buckets = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Hands WebSocket upgrades under `path_prefix` to `handler` (see http/upgrade.h). Access::anyone():
  // a token is resolved when present but not required; roles: required as for routes.
  void set_upgrade_handler(std::string path_prefix, UpgradeHandler handler, Access access = Access::anyone());

  // Binds options.listen and starts accepting. Throws std::system_error (address in use, ...) or
  // std::invalid_argument (malformed address).
  void start();
  // The bound port (useful with port 0); 0 before start().
  std::uint16_t port() const;

  // Graceful stop, see above. True when every in-flight request finished within `grace`.
  boost::asio::awaitable<bool> stop(std::chrono::milliseconds grace);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace comms::http
