// One rabbitmq-c connection (blocking API) and the few AMQP operations the bus
// needs, with errors turned into exceptions. rabbitmq-c connections are not
// thread-safe: a Connection is used by exactly one thread (the consume or the
// publish loop) for its whole life.
#pragma once
#include <amqp.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace comms::bus::rabbitmq {

// Where and how to connect; parsed from an amqp:// URL.
struct ConnectionParams {
  std::string host = "localhost";
  int port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  int heartbeat_seconds = 30;

  // amqp://user:pass@host:port/vhost (vhost URL-encoded; empty or "/" path means "/").
  // std::invalid_argument naming COMMS_BUS, never the password, when malformed.
  static ConnectionParams parse(const std::string& url);
  // MassTransit's address of a queue or exchange on this broker:
  // rabbitmq://host[:port][/vhost]/name (port and vhost "/" omitted).
  std::string address(std::string_view name) const;
};

// The connection failed or was closed; reconnect.
class AmqpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The broker closed a channel (the connection is still usable).
class ChannelClosed : public AmqpError {
 public:
  ChannelClosed(int code, const std::string& text) : AmqpError(text), code(code) {}
  int code;
};

class Connection {
 public:
  // Connects and logs in (TCP connect and handshake time out after 10 s).
  // Throws AmqpError.
  explicit Connection(const ConnectionParams& params, std::string_view name);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  amqp_connection_state_t get() const { return conn_; }

  void open_channel(amqp_channel_t ch);
  // Throws AmqpError (ChannelClosed for a channel-level error) unless `r` is a normal reply.
  void check(amqp_rpc_reply_t r, std::string_view what);
  // Throws AmqpError when `status` (a rabbitmq-c status code) is an error.
  void check_status(int status, std::string_view what);
  // Answers a broker-initiated channel.close or connection.close frame, then
  // throws (ChannelClosed or AmqpError); any other frame is ignored.
  void handle_close(const amqp_frame_t& frame);

  // Topology, declared as MassTransit declares it (durable, not auto-delete,
  // no arguments). If an existing entity has other arguments (406
  // PRECONDITION_FAILED) it is accepted as it is: logged, and `ch` reopened.
  void declare_exchange(amqp_channel_t ch, const std::string& name);
  void declare_queue(amqp_channel_t ch, const std::string& name);
  void bind_queue(amqp_channel_t ch, const std::string& queue, const std::string& exchange);
  void bind_exchange(amqp_channel_t ch, const std::string& destination, const std::string& source);

  // True when frames can be read without waiting.
  bool readable_now() const;
  // Waits until the socket is readable, `wake_fd` is readable, or `timeout`.
  // True when the socket (or rabbitmq-c's buffer) has data.
  bool wait(int wake_fd, std::chrono::milliseconds timeout) const;
  // Reads one frame without blocking; false when none is complete.
  bool next_frame(amqp_frame_t& frame);

 private:
  template <class F>
  void accept_existing(amqp_channel_t ch, std::string_view what, F&& declare);

  amqp_connection_state_t conn_ = nullptr;
  bool open_ = false;  // logged in and not closed by the broker
};

// An eventfd for waking a loop thread.
class WakeFd {
 public:
  WakeFd();
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;
  int fd() const { return fd_; }
  void notify() const;
  void drain() const;

 private:
  int fd_;
};

}  // namespace comms::bus::rabbitmq
