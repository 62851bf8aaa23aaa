#include "hub/connection.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include "common/log.h"
#include "hub/groups.h"
#include "hub/methods.h"

namespace comms::hub {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

// One WebSocket message may carry many records; records themselves are limited by max_message.
constexpr std::size_t kMaxWebSocketMessage = 1024 * 1024;
// Batches that grew the write queues past this many entries give their memory back afterwards.
constexpr std::size_t kKeepQueueCapacity = 8;

const OutboundPtr& handshake_ok_record() {
  static const OutboundPtr ok = make_outbound(handshake_ok());
  return ok;
}

template <class Vector>
void release_if_large(Vector& v) {
  if (v.capacity() > kKeepQueueCapacity) Vector().swap(v);
}

}  // namespace

Connection::Connection(std::shared_ptr<HubCore> core, Socket socket, http::Principal principal,
                       std::string token)
    : core_(std::move(core)),
      ws_(std::move(socket)),
      principal_(std::move(principal)),
      token_(std::move(token)),
      reader_(core_->options.max_message),
      connected_at_(core_->now()),
      last_recv_(connected_at_),
      last_send_(connected_at_) {}

void Connection::start(std::unique_ptr<beast::http::request<beast::http::string_body>> request) {
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = core_->options.handshake_timeout;  // the upgrade, and the closing handshake
  timeouts.idle_timeout = websocket::stream_base::none();         // the hub's sweep watches idleness
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.auto_fragment(false);
  ws_.text(true);
  ws_.read_message_max(kMaxWebSocketMessage);
  auto& req = *request;
  ws_.async_accept(req, [self = shared_from_this(), request = std::move(request)](error_code ec) {
    if (ec) {
      self->teardown(CloseReason::handshake);
      return;
    }
    if (self->phase() != Phase::accepting) return;  // aborted meanwhile
    self->set_phase(Phase::handshaking);
    self->read();
  });
}

void Connection::post_send(OutboundPtr out) {
  asio::post(ws_.get_executor(),
             [self = shared_from_this(), out = std::move(out)]() mutable { self->send(std::move(out)); });
}

void Connection::post_ping() {
  asio::post(ws_.get_executor(), [self = shared_from_this()] {
    // Anything already on its way keeps the connection alive as well as a ping would.
    if (self->phase() == Phase::open && self->writing_.empty() && self->queued_.empty())
      self->send(self->core_->ping);
  });
}

void Connection::post_close(std::string error, bool allow_reconnect, CloseReason reason) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), error = std::move(error), allow_reconnect,
                                  reason] { self->close(error, allow_reconnect, reason); });
}

void Connection::post_abort(CloseReason reason) {
  asio::post(ws_.get_executor(), [self = shared_from_this(), reason] { self->teardown(reason); });
}

// ---- reading ------------------------------------------------------------------------------------

void Connection::read() {
  reading_ = true;
  ws_.async_read_some(asio::buffer(read_buffer_),
                      [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void Connection::on_read(error_code ec, std::size_t n) {
  reading_ = false;
  if (ec) {
    teardown(CloseReason::client);
    return;
  }
  last_recv_.store(core_->now(), std::memory_order_relaxed);
  if (phase() >= Phase::closing) return;  // the closing handshake reads what is left
  if (!reader_.append(std::string_view(read_buffer_.data(), n))) {
    close("Connection closed with an error: the message is larger than the server accepts.", false,
          CloseReason::protocol);
    return;
  }
  process();
}

void Connection::process() {
  while (!busy_ && phase() < Phase::closing) {
    std::string_view record;
    switch (reader_.next(record)) {
      case RecordReader::Next::none:
        if (!reading_) read();
        return;
      case RecordReader::Next::too_large:
        close("Connection closed with an error: the message is larger than the server accepts.", false,
              CloseReason::protocol);
        return;
      case RecordReader::Next::record:
        core_->metrics.received.inc();
        if (phase() == Phase::handshaking) {
          on_handshake(record);
        } else {
          on_message(record);
        }
        break;
    }
  }
}

void Connection::on_handshake(std::string_view record) {
  Handshake h = parse_handshake(record);
  if (h.ok && !core_->join(*this, groups_of(principal_))) {
    h.ok = false;
    h.error = "Server is shutting down.";
  }
  if (!h.ok) {
    // The client learns why from the error record; the WebSocket close follows it.
    set_phase(Phase::closing);
    closing_since_.store(core_->now(), std::memory_order_relaxed);
    close_reason_ = CloseReason::handshake;
    queued_.push_back(make_outbound(handshake_error(h.error)));
    close_after_flush_ = true;
    flush();
    return;
  }
  set_phase(Phase::open);
  core_->metrics.handshakes.inc();
  send(handshake_ok_record());
}

void Connection::on_message(std::string_view record) {
  Message m;
  std::string error;
  if (!parse_message(record, m, error)) {
    close("Connection closed with an error: " + error + ".", false, CloseReason::protocol);
    return;
  }
  switch (static_cast<MessageType>(m.type)) {
    case MessageType::invocation:
      invoke(std::move(m));
      break;
    case MessageType::stream_invocation:
      if (!m.invocation_id.empty())
        send(make_outbound(completion_error(m.invocation_id, "Streaming hub methods are not supported.")));
      break;
    case MessageType::close:
      // The client is leaving: no Close record back, just the WebSocket close.
      set_phase(Phase::closing);
      closing_since_.store(core_->now(), std::memory_order_relaxed);
      close_reason_ = CloseReason::client;
      close_after_flush_ = true;
      flush();
      break;
    default:  // Ping, and what this hub ignores (see hub/protocol.h)
      break;
  }
}

void Connection::invoke(Message m) {
  busy_ = true;
  asio::co_spawn(ws_.get_executor(), run_invocation(core_, principal_.sub, std::move(m)),
                 [self = shared_from_this()](std::exception_ptr e, std::string completion) {
                   self->busy_ = false;
                   if (e) {
                     // run_invocation turns failures into Completion errors; this is a bug.
                     log::error("hub_invocation_crashed", {{"user", self->principal_.sub}});
                   } else if (!completion.empty() && self->phase() == Phase::open) {
                     self->send(make_outbound(std::move(completion)));
                   }
                   self->process();
                 });
}

// ---- writing ------------------------------------------------------------------------------------

void Connection::send(OutboundPtr out) {
  if (phase() != Phase::open) {
    out->finish(false);
    return;
  }
  if (queued_.size() + writing_.size() >= core_->options.send_queue) {
    out->finish(false);
    close("Connection closed with an error: the client did not read its messages fast enough.", true,
          CloseReason::slow);
    return;
  }
  queued_.push_back(std::move(out));
  flush();
}

void Connection::flush() {
  if (!writing_.empty()) return;  // on_write flushes again
  if (queued_.empty()) {
    if (close_after_flush_) close_websocket();
    return;
  }
  writing_.swap(queued_);
  write_started_.store(core_->now(), std::memory_order_relaxed);
  auto done = [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); };
  if (writing_.size() == 1) {
    ws_.async_write(asio::buffer(writing_.front()->text()), std::move(done));
    return;
  }
  // Several records go out as one WebSocket message (the protocol allows it); no copying.
  buffers_.clear();
  for (const OutboundPtr& o : writing_) buffers_.push_back(asio::buffer(o->text()));
  ws_.async_write(buffers_, std::move(done));
}

void Connection::on_write(error_code ec) {
  write_started_.store(0, std::memory_order_relaxed);
  if (!ec) {
    last_send_.store(core_->now(), std::memory_order_relaxed);
    core_->metrics.written.inc(static_cast<double>(writing_.size()));
  }
  for (const OutboundPtr& o : writing_) o->finish(!ec);
  writing_.clear();
  release_if_large(writing_);
  release_if_large(buffers_);
  if (ec) {
    teardown(CloseReason::client);
    return;
  }
  flush();
}

// ---- closing ------------------------------------------------------------------------------------

void Connection::close(std::string_view error, bool allow_reconnect, CloseReason reason) {
  const Phase was = phase();
  if (was >= Phase::closing) return;
  if (was == Phase::accepting) {
    teardown(reason);
    return;
  }
  set_phase(Phase::closing);
  closing_since_.store(core_->now(), std::memory_order_relaxed);
  close_reason_ = reason;
  if (reason == CloseReason::slow) {
    // What the client did not read is in its inbox; drop it now rather than when the socket goes.
    for (const OutboundPtr& o : queued_) o->finish(false);
    queued_.clear();
    release_if_large(queued_);
  }
  if (was == Phase::open) queued_.push_back(make_outbound(close_record(error, allow_reconnect)));
  close_after_flush_ = true;
  flush();
}

void Connection::close_websocket() {
  if (ws_closing_ || torn_down_) return;
  ws_closing_ = true;
  const auto code = close_reason_ == CloseReason::shutdown ? websocket::close_code::going_away
                                                           : websocket::close_code::normal;
  ws_.async_close(code, [self = shared_from_this()](error_code) { self->teardown(self->close_reason_); });
}

void Connection::teardown(CloseReason reason) {
  if (torn_down_) return;
  torn_down_ = true;
  if (phase() == Phase::closing) reason = close_reason_;
  set_phase(Phase::closed);
  core_->metrics.closed[static_cast<std::size_t>(reason)]->inc();
  core_->remove(*this);
  for (const OutboundPtr& o : queued_) o->finish(false);
  queued_.clear();
  release_if_large(queued_);
  // Pending reads and writes complete with an error and let go of the connection.
  error_code ec;
  auto& socket = beast::get_lowest_layer(ws_);
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

}  // namespace comms::hub
