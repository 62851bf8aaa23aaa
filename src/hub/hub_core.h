// Internal to hub/: the state shared by the hub and its connections: options, the registry of
// connections, groups and their members, connection tokens, metrics, and the keep-alive sweep.
//
// Threading: registry_, groups_ and every Connection's memberships are guarded by mu_. Everything
// else here is immutable after construction or thread-safe by itself. Connections keep the core
// alive (shared_ptr), so it outlives every connection and coroutine that uses it.
#pragma once
#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/metrics.h"
#include "http/message.h"
#include "hub/backplane.h"
#include "hub/negotiations.h"
#include "hub/options.h"
#include "hub/outbound.h"

namespace boost::asio {
class io_context;
}
namespace comms::store {
class Store;
}

namespace comms::hub {

class Connection;

// Why a connection ended, for the comms_hub_closed_total metric.
enum class CloseReason { client, timeout, handshake, protocol, slow, stalled, shutdown, count };
std::string_view to_string(CloseReason r);

// Milliseconds on the steady clock since the core was created: cheap to store in atomics.
using Ticks = std::int64_t;

struct Group {
  const std::string* name = nullptr;  // its key in HubCore::groups_ (node keys do not move)
  std::vector<Connection*> members;   // registered connections only (the registry holds them)
};

// One group a connection is in, and its slot in the group's member list.
struct Membership {
  Group* group = nullptr;
  std::uint32_t index = 0;
};
inline constexpr std::size_t kMaxGroups = 3;  // user, role, branch

class HubCore : public std::enable_shared_from_this<HubCore> {
 public:
  HubCore(boost::asio::io_context& io_context, store::Store& store_ref, metrics::Registry& registry,
          HubOptions hub_options, std::shared_ptr<Backplane> backplane_ptr);
  ~HubCore();

  // The upgrade handler's body (runs on the connection's strand): validates the token, then hands
  // the socket to a new Connection, or answers 401/404/409/503 and closes.
  void upgrade(boost::beast::tcp_stream&& stream,
               boost::beast::http::request<boost::beast::http::string_body>&& request,
               http::Request&& parsed);

  // A connection finished its handshake: it joins its groups. False when the hub is stopping.
  bool join(Connection& c, const std::vector<std::string>& groups);
  // The connection is done: leaves its groups and the registry, releases its token. Idempotent.
  void remove(Connection& c);

  // The backplane's Deliver: writes `frame` to the local members of `group`.
  void deliver(const std::string& group, Frame frame, DeliveredCallback done);

  void start();
  void begin_stop();
  void finish_stop();
  bool stopping() const { return stopping_.load(); }
  std::size_t size() const;

  Ticks now() const;

  boost::asio::io_context& io;
  store::Store& store;
  const HubOptions options;
  const std::shared_ptr<Backplane> backplane;
  Negotiations negotiations;
  const OutboundPtr ping;  // the one Ping record every keep-alive shares

  struct Metrics {
    metrics::Gauge& connections;
    metrics::Counter& handshakes;
    metrics::Counter& received;  // records read from clients
    metrics::Counter& written;   // records written to clients
    std::array<metrics::Counter*, static_cast<std::size_t>(CloseReason::count)> closed;
    metrics::Counter& delivered;    // notify() found a connection
    metrics::Counter& undelivered;  // notify() found none
    metrics::CallbackGauge pending_negotiations;
  } metrics;

 private:
  void sweep();
  void schedule_sweep();

  const std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  std::atomic<bool> stopping_{false};
  boost::asio::steady_timer sweep_timer_;  // on its own strand
  std::chrono::milliseconds sweep_every_;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Connection>>
      registry_;                                   // guarded by mu_; Connection::registry_index_ is its slot
  std::unordered_map<std::string, Group> groups_;  // guarded by mu_; no empty groups
};

}  // namespace comms::hub
