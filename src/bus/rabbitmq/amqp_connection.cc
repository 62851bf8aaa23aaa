#include "bus/rabbitmq/amqp_connection.h"

#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.h"

namespace comms::bus::rabbitmq {
namespace {

std::string bytes(amqp_bytes_t b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}

amqp_bytes_t cstr(const std::string& s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

std::string url_encode_vhost(std::string_view v) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

ConnectionParams ConnectionParams::parse(const std::string& url) {
  if (url.rfind("amqps://", 0) == 0)
    throw std::invalid_argument(
        "COMMS_BUS: amqps:// (TLS) is not supported; use amqp://user:pass@host:port/vhost");
  if (url.rfind("amqp://", 0) != 0)
    throw std::invalid_argument("COMMS_BUS: expected inprocess or amqp://user:pass@host:port/vhost");
  std::vector<char> buf(url.begin(), url.end());
  buf.push_back('\0');
  amqp_connection_info info{};
  if (amqp_parse_url(buf.data(), &info) != AMQP_STATUS_OK || !info.host || !*info.host)
    throw std::invalid_argument(
        "COMMS_BUS: not a valid amqp:// URL (expected amqp://user:pass@host:port/vhost)");
  ConnectionParams p;
  p.host = info.host;
  p.port = info.port;
  p.user = info.user ? info.user : "guest";
  p.password = info.password ? info.password : "guest";
  p.vhost = info.vhost && *info.vhost ? info.vhost : "/";
  return p;
}

std::string ConnectionParams::address(std::string_view name) const {
  std::string out = "rabbitmq://" + host;
  if (port != 5672) out += ":" + std::to_string(port);
  if (vhost != "/") out += "/" + url_encode_vhost(vhost);
  out += "/";
  out += name;
  return out;
}

Connection::Connection(const ConnectionParams& params, std::string_view name) {
  conn_ = amqp_new_connection();
  if (!conn_) throw AmqpError("out of memory");
  amqp_socket_t* socket = amqp_tcp_socket_new(conn_);
  if (!socket) {
    amqp_destroy_connection(conn_);
    throw AmqpError("cannot create a socket");
  }
  timeval connect_timeout{10, 0};
  if (int s = amqp_socket_open_noblock(socket, params.host.c_str(), params.port, &connect_timeout); s != 0) {
    amqp_destroy_connection(conn_);
    throw AmqpError("cannot connect to " + params.host + ":" + std::to_string(params.port) + ": " +
                    amqp_error_string2(s));
  }
  timeval rpc_timeout{10, 0};
  amqp_set_handshake_timeout(conn_, &rpc_timeout);
  amqp_set_rpc_timeout(conn_, &rpc_timeout);

  amqp_table_entry_t props[1];
  props[0].key = amqp_cstring_bytes("connection_name");
  props[0].value.kind = AMQP_FIELD_KIND_UTF8;
  const std::string conn_name = "comms " + std::string(name);
  props[0].value.value.bytes = cstr(conn_name);
  amqp_table_t client_properties{1, props};
  const amqp_rpc_reply_t r = amqp_login_with_properties(
      conn_, params.vhost.c_str(), 0, 131072, params.heartbeat_seconds, &client_properties,
      AMQP_SASL_METHOD_PLAIN, params.user.c_str(), params.password.c_str());
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    std::string why = r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ? amqp_error_string2(r.library_error)
                                                                      : "refused by the broker";
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      auto* c = static_cast<amqp_connection_close_t*>(r.reply.decoded);
      why = std::to_string(c->reply_code) + " " + bytes(c->reply_text);
    }
    amqp_destroy_connection(conn_);
    throw AmqpError("login to vhost '" + params.vhost + "' as '" + params.user + "' failed: " + why);
  }
  open_ = true;
}

Connection::~Connection() {
  if (open_) {
    timeval quick{1, 0};
    amqp_set_rpc_timeout(conn_, &quick);
    amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection(conn_);
}

void Connection::check_status(int status, std::string_view what) {
  if (status >= 0) return;
  open_ = false;
  throw AmqpError(std::string(what) + ": " + amqp_error_string2(status));
}

void Connection::check(amqp_rpc_reply_t r, std::string_view what) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return;
    case AMQP_RESPONSE_NONE:
      open_ = false;
      throw AmqpError(std::string(what) + ": no reply");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      open_ = false;
      throw AmqpError(std::string(what) + ": " + amqp_error_string2(r.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION: {
      amqp_frame_t f{};
      f.frame_type = AMQP_FRAME_METHOD;
      f.payload.method = r.reply;
      try {
        handle_close(f);
      } catch (const ChannelClosed& e) {
        throw ChannelClosed(e.code, std::string(what) + ": " + e.what());
      } catch (const AmqpError& e) {
        throw AmqpError(std::string(what) + ": " + e.what());
      }
      throw AmqpError(std::string(what) + ": unexpected reply");
    }
  }
}

void Connection::handle_close(const amqp_frame_t& frame) {
  if (frame.frame_type != AMQP_FRAME_METHOD) return;
  if (frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* c = static_cast<amqp_connection_close_t*>(frame.payload.method.decoded);
    const std::string text = std::to_string(c->reply_code) + " " + bytes(c->reply_text);
    amqp_connection_close_ok_t ok{};
    amqp_send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
    open_ = false;
    throw AmqpError("connection closed by the broker: " + text);
  }
  if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    auto* c = static_cast<amqp_channel_close_t*>(frame.payload.method.decoded);
    const int code = c->reply_code;
    const std::string text = std::to_string(code) + " " + bytes(c->reply_text);
    throw ChannelClosed(code, "channel closed by the broker: " + text);
  }
}

void Connection::open_channel(amqp_channel_t ch) {
  amqp_channel_open(conn_, ch);
  check(amqp_get_rpc_reply(conn_), "channel.open");
}

template <class F>
void Connection::accept_existing(amqp_channel_t ch, std::string_view what, F&& declare) {
  declare();
  const amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
  if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    auto* c = static_cast<amqp_channel_close_t*>(r.reply.decoded);
    const int code = c->reply_code;
    const std::string text = bytes(c->reply_text);
    amqp_channel_close_ok_t ok{};
    check_status(amqp_send_method(conn_, ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok), "channel.close-ok");
    amqp_maybe_release_buffers_on_channel(conn_, ch);
    if (code != AMQP_PRECONDITION_FAILED) throw ChannelClosed(code, std::string(what) + ": " + text);
    log::warn("bus_topology_kept_existing", {{"entity", what}, {"broker_says", text}});
    open_channel(ch);
    return;
  }
  check(r, what);
}

void Connection::declare_exchange(amqp_channel_t ch, const std::string& name) {
  accept_existing(ch, "exchange " + name, [&] {
    amqp_exchange_declare(conn_, ch, cstr(name), amqp_cstring_bytes("fanout"), 0, 1, 0, 0, amqp_empty_table);
  });
}

void Connection::declare_queue(amqp_channel_t ch, const std::string& name) {
  accept_existing(ch, "queue " + name,
                  [&] { amqp_queue_declare(conn_, ch, cstr(name), 0, 1, 0, 0, amqp_empty_table); });
}

void Connection::bind_queue(amqp_channel_t ch, const std::string& queue, const std::string& exchange) {
  amqp_queue_bind(conn_, ch, cstr(queue), cstr(exchange), amqp_empty_bytes, amqp_empty_table);
  check(amqp_get_rpc_reply(conn_), "queue.bind " + exchange + " -> " + queue);
}

void Connection::bind_exchange(amqp_channel_t ch, const std::string& destination, const std::string& source) {
  amqp_exchange_bind(conn_, ch, cstr(destination), cstr(source), amqp_empty_bytes, amqp_empty_table);
  check(amqp_get_rpc_reply(conn_), "exchange.bind " + source + " -> " + destination);
}

bool Connection::readable_now() const {
  return amqp_frames_enqueued(conn_) || amqp_data_in_buffer(conn_);
}

bool Connection::wait(int wake_fd, std::chrono::milliseconds timeout) const {
  if (readable_now()) return true;
  pollfd fds[2] = {{amqp_get_sockfd(conn_), POLLIN, 0}, {wake_fd, POLLIN, 0}};
  const int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
  return n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

bool Connection::next_frame(amqp_frame_t& frame) {
  timeval zero{0, 0};
  const int s = amqp_simple_wait_frame_noblock(conn_, &frame, &zero);
  if (s == AMQP_STATUS_TIMEOUT) return false;
  check_status(s, "read");
  return true;
}

WakeFd::WakeFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

WakeFd::~WakeFd() {
  ::close(fd_);
}

void WakeFd::notify() const {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
}

void WakeFd::drain() const {
  std::uint64_t v = 0;
  [[maybe_unused]] auto n = ::read(fd_, &v, sizeof v);
}

}  // namespace comms::bus::rabbitmq
