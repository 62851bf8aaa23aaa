#include "hub/hub_core.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http/write.hpp>

#include "common/log.h"
#include "hub/connection.h"

namespace comms::hub {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

constexpr std::chrono::seconds kRejectWriteTimeout{5};

// The sweep runs often enough to keep each deadline within a quarter of its length.
std::chrono::milliseconds sweep_period(const HubOptions& o) {
  const auto shortest = std::min({o.keepalive, o.client_timeout, o.handshake_timeout});
  return std::clamp(shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
}

// Answers an upgrade the hub refuses, then closes the socket.
void reject(beast::tcp_stream&& stream, unsigned version, int status, std::string_view code,
            std::string_view message, const std::string& request_id) {
  const http::Response r = http::Response::error(status, code, message, request_id);
  auto res =
      std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(status), version);
  for (const auto& [k, v] : r.headers) res->set(k, v);
  res->set("X-Request-Id", request_id);
  res->body() = r.body;
  res->keep_alive(false);
  res->prepare_payload();
  auto s = std::make_shared<beast::tcp_stream>(std::move(stream));
  s->expires_after(kRejectWriteTimeout);
  bhttp::async_write(*s, *res, [s, res](boost::system::error_code ec, std::size_t) {
    s->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    s->close();
  });
}

}  // namespace

std::string_view to_string(CloseReason r) {
  switch (r) {
    case CloseReason::client:
      return "client";
    case CloseReason::timeout:
      return "timeout";
    case CloseReason::handshake:
      return "handshake";
    case CloseReason::protocol:
      return "protocol";
    case CloseReason::slow:
      return "slow";
    case CloseReason::stalled:
      return "stalled";
    case CloseReason::shutdown:
      return "shutdown";
    case CloseReason::count:
      break;
  }
  return "unknown";
}

HubCore::HubCore(asio::io_context& io_context, store::Store& store_ref, metrics::Registry& registry,
                 HubOptions hub_options, std::shared_ptr<Backplane> backplane_ptr)
    : io(io_context),
      store(store_ref),
      options(std::move(hub_options)),
      backplane(std::move(backplane_ptr)),
      negotiations(options.negotiate_ttl, options.max_pending_negotiations),
      ping(make_outbound(ping_record())),
      metrics{
          registry.gauge("comms_hub_connections", "Hub WebSocket connections held").unlabelled(),
          registry
              .counter("comms_hub_handshakes_total", "Hub connections that completed the SignalR handshake")
              .unlabelled(),
          registry.counter("comms_hub_records_received_total", "SignalR records read from hub clients")
              .unlabelled(),
          registry.counter("comms_hub_records_written_total", "SignalR records written to hub clients")
              .unlabelled(),
          {},
          registry
              .counter("comms_hub_notifications_total", "In-app notifications pushed, by outcome", {"result"})
              .labels({"delivered"}),
          registry
              .counter("comms_hub_notifications_total", "In-app notifications pushed, by outcome", {"result"})
              .labels({"undelivered"}),
          registry.gauge_callback("comms_hub_negotiations_pending",
                                  "Negotiated connection tokens not yet used",
                                  [this] { return static_cast<double>(negotiations.pending()); }),
      },
      sweep_timer_(asio::make_strand(io)),
      sweep_every_(sweep_period(options)) {
  auto& closed = registry.counter("comms_hub_closed_total", "Hub connections ended, by reason", {"reason"});
  for (std::size_t i = 0; i < metrics.closed.size(); ++i)
    metrics.closed[i] = &closed.labels({to_string(static_cast<CloseReason>(i))});
}

HubCore::~HubCore() = default;

Ticks HubCore::now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_)
      .count();
}

std::size_t HubCore::size() const {
  std::lock_guard lock(mu_);
  return registry_.size();
}

void HubCore::upgrade(beast::tcp_stream&& stream, bhttp::request<bhttp::string_body>&& request,
                      http::Request&& parsed) {
  const unsigned version = request.version();
  const std::string& rid = parsed.request_id;
  http::Principal& principal = parsed.principal;
  if (parsed.path != options.path)
    return reject(std::move(stream), version, 404, "not_found", "no hub at this path", rid);
  if (!principal.authenticated())
    return reject(std::move(stream), version, 401, "unauthorized", "missing bearer token", rid);
  if (stopping())
    return reject(std::move(stream), version, 503, "shutting_down", "the server is shutting down", rid);
  std::string token;
  if (const auto id = parsed.query_param("id")) {
    token = std::string(*id);
    switch (negotiations.claim(token, principal.sub)) {
      case Negotiations::Claim::unknown:
        return reject(std::move(stream), version, 404, "not_found", "unknown or expired connection token",
                      rid);
      case Negotiations::Claim::in_use:
        return reject(std::move(stream), version, 409, "conflict",
                      "this connection token is already connected", rid);
      case Negotiations::Claim::ok:
        break;
    }
  }
  // The hub's own strand, typed (see Connection::Strand); the socket moves over by its descriptor.
  boost::system::error_code ec;
  asio::ip::tcp::socket plain = stream.release_socket();
  const auto protocol = plain.local_endpoint(ec).protocol();
  Connection::Socket socket(asio::make_strand(io));
  if (!ec) {
    const auto fd = plain.release(ec);
    if (!ec) {
      socket.assign(protocol, fd, ec);
      if (ec) ::close(fd);  // released by `plain`, refused by `socket`: still ours to close
    }
  }
  if (ec) {
    if (!token.empty()) negotiations.release(token);
    return;  // the peer is already gone
  }
  auto conn = std::make_shared<Connection>(shared_from_this(), std::move(socket), std::move(principal),
                                           std::move(token));
  bool registered = false;
  {
    std::lock_guard lock(mu_);
    if (!stopping_.load()) {
      conn->registry_index_ = static_cast<std::uint32_t>(registry_.size());
      registry_.push_back(conn);
      metrics.connections.inc();
      registered = true;
    }
  }
  if (!registered) {
    // Stopping: dropping the connection closes its socket.
    if (!conn->token().empty()) negotiations.release(conn->token());
    return;
  }
  conn->start(std::make_unique<bhttp::request<bhttp::string_body>>(std::move(request)));
}

bool HubCore::join(Connection& c, const std::vector<std::string>& names) {
  std::lock_guard lock(mu_);
  if (stopping_.load() || c.phase() == Connection::Phase::closed) return false;
  for (const std::string& name : names) {
    if (c.membership_count_ == kMaxGroups) break;
    auto [it, created] = groups_.try_emplace(name);
    Group& g = it->second;
    g.name = &it->first;
    c.memberships_[c.membership_count_++] = {&g, static_cast<std::uint32_t>(g.members.size())};
    g.members.push_back(&c);
    // Under the lock, so that a subscribe never overtakes the unsubscribe of an emptied group.
    if (created) backplane->subscribe(name);
  }
  return true;
}

void HubCore::remove(Connection& c) {
  std::shared_ptr<Connection> dropped;  // released after the lock
  {
    std::lock_guard lock(mu_);
    for (std::uint8_t i = 0; i < c.membership_count_; ++i) {
      Membership& m = c.memberships_[i];
      auto& members = m.group->members;
      Connection* last = members.back();
      members[m.index] = last;
      for (std::uint8_t j = 0; j < last->membership_count_; ++j)
        if (last->memberships_[j].group == m.group) last->memberships_[j].index = m.index;
      members.pop_back();
      if (members.empty()) {
        const auto it = groups_.find(*m.group->name);
        backplane->unsubscribe(it->first);
        groups_.erase(it);
      }
    }
    c.membership_count_ = 0;
    const std::uint32_t slot = c.registry_index_;
    if (slot < registry_.size() && registry_[slot].get() == &c) {
      dropped = std::move(registry_[slot]);
      if (slot + 1 != registry_.size()) {
        registry_[slot] = std::move(registry_.back());
        registry_[slot]->registry_index_ = slot;
      }
      registry_.pop_back();
      metrics.connections.dec();
    }
  }
  if (!c.token().empty()) negotiations.release(c.token());
}

void HubCore::deliver(const std::string& group, Frame frame, DeliveredCallback done) {
  auto out = std::make_shared<Outbound>(std::move(frame), std::move(done));
  {
    std::lock_guard lock(mu_);
    if (const auto it = groups_.find(group); it != groups_.end()) {
      for (Connection* c : it->second.members) {
        out->add();
        c->post_send(out);
      }
    }
  }
  out->finish(false);  // the publisher's hold
}

void HubCore::start() {
  backplane->start([weak = weak_from_this()](const std::string& group, Frame frame, DeliveredCallback done) {
    if (auto self = weak.lock()) {
      self->deliver(group, std::move(frame), std::move(done));
    } else {
      done(false);
    }
  });
  schedule_sweep();
}

void HubCore::schedule_sweep() {
  sweep_timer_.expires_after(sweep_every_);
  sweep_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->stopping_.load()) return;
    self->sweep();
    self->schedule_sweep();
  });
}

void HubCore::sweep() {
  enum class Action { ping, timeout, stalled, handshake, abort_closing };
  const Ticks t = now();
  const Ticks keepalive = options.keepalive.count();
  const Ticks client_timeout = options.client_timeout.count();
  const Ticks handshake = options.handshake_timeout.count();
  negotiations.expire();
  std::vector<std::pair<std::shared_ptr<Connection>, Action>> due;
  {
    std::lock_guard lock(mu_);
    for (const auto& c : registry_) {
      switch (c->phase()) {
        case Connection::Phase::accepting:
        case Connection::Phase::handshaking:
          if (t - c->connected_at() >= handshake) due.emplace_back(c, Action::handshake);
          break;
        case Connection::Phase::open: {
          const Ticks writing_since = c->write_started();
          if (t - c->last_received() >= client_timeout) {
            due.emplace_back(c, Action::timeout);
          } else if (writing_since != 0 && t - writing_since >= client_timeout) {
            due.emplace_back(c, Action::stalled);
          } else if (writing_since == 0 && t - c->last_sent() >= keepalive) {
            due.emplace_back(c, Action::ping);
          }
          break;
        }
        case Connection::Phase::closing:
          if (t - c->closing_since() >= handshake) due.emplace_back(c, Action::abort_closing);
          break;
        case Connection::Phase::closed:
          break;
      }
    }
  }
  for (auto& [c, action] : due) {
    switch (action) {
      case Action::ping:
        c->post_ping();
        break;
      case Action::timeout:
        c->post_close("Server timeout elapsed without receiving a message from the client.", true,
                      CloseReason::timeout);
        break;
      case Action::stalled:
        c->post_abort(CloseReason::stalled);
        break;
      case Action::handshake:
        c->post_abort(CloseReason::handshake);
        break;
      case Action::abort_closing:
        c->post_abort(CloseReason::client);
        break;
    }
  }
}

void HubCore::begin_stop() {
  std::vector<std::shared_ptr<Connection>> all;
  {
    std::lock_guard lock(mu_);
    stopping_.store(true);
    all = registry_;
  }
  for (auto& c : all) c->post_close("Server is shutting down.", true, CloseReason::shutdown);
}

void HubCore::finish_stop() {
  std::vector<std::shared_ptr<Connection>> left;
  {
    std::lock_guard lock(mu_);
    left = registry_;
  }
  for (auto& c : left) c->post_abort(CloseReason::shutdown);
  asio::post(sweep_timer_.get_executor(), [self = shared_from_this()] { self->sweep_timer_.cancel(); });
  backplane->stop();
}

}  // namespace comms::hub
