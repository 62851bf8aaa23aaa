// The SignalR notifications hub (ASP.NET Core SignalR over WebSockets, JSON hub protocol; see
// docs/hub.md): connection tokens for negotiate, the WebSocket sessions the HTTP server hands over,
// groups (hub/groups.h), keep-alive and timeouts, the client methods MarkRead and GetUnread, and
// ReceiveNotification pushes through the backplane.
//
// Lifecycle: construct, attach() to the HTTP server before it starts, start(), run the io_context,
// co_await stop() on SIGTERM (before the io_context stops), destroy after the io_context has run
// out. Each connection lives on the strand the HTTP server gave it; hub-wide state is under one
// mutex. `store` and `metrics` must outlive the io_context: coroutines still queued on it may use
// them while they unwind.
//
// Threading: every method is thread-safe; attach() only before the server starts.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "http/message.h"
#include "hub/backplane.h"
#include "hub/notifier.h"
#include "hub/options.h"

namespace boost::asio {
class io_context;
}
namespace comms::http {
class Server;
}
namespace comms::metrics {
class Registry;
}
namespace comms::store {
class Store;
}

namespace comms::hub {

class HubCore;

class Hub final : public Notifier {
 public:
  // `backplane` nullptr: the in-process backplane (a single instance).
  Hub(boost::asio::io_context& io, store::Store& store, metrics::Registry& metrics, HubOptions options,
      std::shared_ptr<Backplane> backplane = nullptr);
  ~Hub() override;
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Installs the WebSocket upgrade handler for options.path on `server`. The upgrade needs a token
  // (Authorization header or access_token query) of any role: 401 without one.
  void attach(http::Server& server);

  // The body of POST {path}/negotiate?negotiateVersion=N for an authenticated principal:
  // connectionId, connectionToken (version >= 1), negotiateVersion, availableTransports
  // (WebSockets, Text). nullopt when the hub is stopping or too many tokens are pending (answer 503).
  std::optional<boost::json::object> negotiate(const http::Principal& principal, int negotiate_version);

  // Starts the keep-alive sweep.
  void start();
  // Refuses new connections, sends Close (allowReconnect) to every client, and waits up to `grace`
  // for them to close; whatever is left is then dropped.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds grace);

  boost::asio::awaitable<bool> notify(domain::Notification n) override;

  // Connections held now (from the upgrade until the socket is closed).
  std::size_t connections() const;
  // options.path: where clients connect; negotiate is POST path() + "/negotiate".
  const std::string& path() const;

 private:
  std::shared_ptr<HubCore> core_;
};

}  // namespace comms::hub
