// Internal to hub/: one SignalR client connection over a WebSocket.
//
// Reads: one read at a time into a small fixed buffer, split into records (RecordReader), the
// handshake first, then messages; while an invocation (MarkRead, GetUnread) runs, reading pauses, so
// a client has at most one invocation in flight and cannot queue unbounded work. Writes: records
// queue (bounded by send_queue) and go out as one WebSocket message per batch. Closing: a SignalR
// Close record, then the WebSocket closing handshake (bounded by handshake_timeout), then the socket.
//
// Threading: all state is touched on the connection's strand (the executor of its socket) except
// the atomics the hub's sweep reads and the memberships, which HubCore guards. The post_* methods
// may be called from any thread. Lifetime: shared_ptr, held by the hub's registry and by every
// pending operation; it ends when the socket is closed and those have completed.
#pragma once
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <memory>
#include <string>
#include <vector>

#include "http/message.h"
#include "hub/hub_core.h"
#include "hub/outbound.h"
#include "hub/protocol.h"

namespace comms::hub {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Phase : std::uint8_t { accepting, handshaking, open, closing, closed };
  // A concrete strand type rather than any_io_executor: every operation and post on the fan-out
  // path would otherwise pay for type erasure.
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Strand>;

  // `token`: the negotiated connection token it claimed; empty for skipNegotiation clients.
  Connection(std::shared_ptr<HubCore> core, Socket socket, http::Principal principal, std::string token);

  // On the strand: the WebSocket upgrade, then the read loop. `request` is the HTTP upgrade request.
  void start(std::unique_ptr<boost::beast::http::request<boost::beast::http::string_body>> request);

  // Any thread.
  void post_send(OutboundPtr out);
  void post_ping();
  void post_close(std::string error, bool allow_reconnect, CloseReason reason);
  void post_abort(CloseReason reason);

  // Read by the sweep on any thread.
  Phase phase() const { return phase_.load(std::memory_order_relaxed); }
  Ticks connected_at() const { return connected_at_; }
  Ticks last_received() const { return last_recv_.load(std::memory_order_relaxed); }
  Ticks last_sent() const { return last_send_.load(std::memory_order_relaxed); }
  Ticks write_started() const { return write_started_.load(std::memory_order_relaxed); }  // 0: idle
  Ticks closing_since() const { return closing_since_.load(std::memory_order_relaxed); }

  const std::string& token() const { return token_; }

  // Guarded by HubCore::mu_.
  std::uint32_t registry_index_ = 0;
  std::array<Membership, kMaxGroups> memberships_{};
  std::uint8_t membership_count_ = 0;

 private:
  void read();
  void on_read(boost::system::error_code ec, std::size_t n);
  void process();
  void on_handshake(std::string_view record);
  void on_message(std::string_view record);
  void invoke(Message m);

  void send(OutboundPtr out);
  void flush();
  void on_write(boost::system::error_code ec);
  void close(std::string_view error, bool allow_reconnect, CloseReason reason);
  void close_websocket();
  void teardown(CloseReason reason);
  void set_phase(Phase p) { phase_.store(p, std::memory_order_relaxed); }

  const std::shared_ptr<HubCore> core_;
  boost::beast::websocket::stream<Socket> ws_;
  const http::Principal principal_;
  const std::string token_;
  RecordReader reader_;
  std::vector<OutboundPtr> queued_;                 // waiting for the current write
  std::vector<OutboundPtr> writing_;                // being written
  std::vector<boost::asio::const_buffer> buffers_;  // the current write's buffers, into writing_
  CloseReason close_reason_ = CloseReason::client;
  bool busy_ = false;  // an invocation is running; reading is paused
  bool reading_ = false;
  bool close_after_flush_ = false;  // start the WebSocket close once the queue is empty
  bool ws_closing_ = false;
  bool torn_down_ = false;

  std::atomic<Phase> phase_{Phase::accepting};
  const Ticks connected_at_;
  std::atomic<Ticks> last_recv_;
  std::atomic<Ticks> last_send_;
  std::atomic<Ticks> write_started_{0};
  std::atomic<Ticks> closing_since_{0};

  // Reads land here; Beast already holds the socket's bytes in its own frame buffer, so this only
  // needs to be big enough for typical records (pings, invocations) to arrive in one piece.
  std::array<char, 256> read_buffer_;
};

}  // namespace comms::hub
