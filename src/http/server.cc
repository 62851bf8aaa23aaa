#include "http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_set>

#include "common/log.h"
#include "http/gate.h"
#include "http/middleware.h"
#include "http/upgrade.h"

namespace comms::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using BeastRequest = bhttp::request<bhttp::string_body>;
using Parser = bhttp::request_parser<bhttp::string_body>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Connection {
  template <class Socket>
  explicit Connection(Socket&& s) : stream(std::forward<Socket>(s)), executor(stream.get_executor()) {}
  beast::tcp_stream stream;
  const asio::any_io_executor executor;  // the connection's strand; outlives a handed-over stream
  std::string remote;
  // Touched only on the strand:
  bool idle = false;         // waiting for the next request's headers
  bool handed_over = false;  // the stream now belongs to the upgrade handler
};

struct UpgradeRoute {
  std::string prefix;
  UpgradeHandler handler;
  Access access;
};

tcp::endpoint parse_listen(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("listen address needs host:port: " + listen);
  std::string host = listen.substr(0, colon);
  const std::string_view port_text = std::string_view(listen).substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const asio::ip::address addr = asio::ip::make_address(host, ec);
  std::uint16_t port = 0;
  const auto [ptr, pec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec || pec != std::errc() || ptr != port_text.data() + port_text.size()) {
    throw std::invalid_argument("malformed listen address: " + listen);
  }
  return {addr, port};
}

// Fills the Beast-free Request. False when the target is not an origin-form path.
bool fill_request(BeastRequest& m, Request& r, bool take_body) {
  r.method = std::string(m.method_string());
  const std::string_view target = m.target();
  if (target.empty() || target.front() != '/') return false;
  r.target = std::string(target);
  if (target.find_first_of("%?") == std::string_view::npos) {
    r.path = r.target;
  } else {
    const auto url = boost::urls::parse_origin_form(target);
    if (!url) return false;
    r.path = url->path();
    for (const auto& p : url->params()) r.query.emplace_back(p.key, p.value);
  }
  r.headers.reserve(std::distance(m.begin(), m.end()));
  for (const auto& f : m) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  if (take_body) r.body = std::move(m.body());
  return true;
}

std::string client_ip(const Request& r, const std::string& peer, bool trust_forwarded_for) {
  if (trust_forwarded_for) {
    if (auto xff = r.header("X-Forwarded-For")) {
      std::string_view first = xff->substr(0, xff->find(','));
      while (!first.empty() && first.front() == ' ') first.remove_prefix(1);
      while (!first.empty() && first.back() == ' ') first.remove_suffix(1);
      if (!first.empty()) return std::string(first);
    }
  }
  return peer;
}

auto log_failure(std::string_view what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("http_coroutine_failed", {{"where", what}, {"error", ex.what()}});
    } catch (...) {
      log::error("http_coroutine_failed", {{"where", what}});
    }
  };
}

asio::awaitable<bool> write_response(Connection& c, Response&& r, unsigned version, bool keep_alive,
                                     std::chrono::milliseconds timeout) {
  bhttp::response<bhttp::string_body> res;
  res.version(version);
  res.result(static_cast<unsigned>(r.status));
  for (const auto& [k, v] : r.headers) res.insert(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  c.stream.expires_after(timeout);
  const auto [ec, n] = co_await bhttp::async_write(c.stream, res, kTuple);
  co_return !ec;
}

}  // namespace

class Server::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& ioc, HttpOptions options, Router router, metrics::Registry& metrics,
       std::shared_ptr<BucketStore> buckets)
      : ioc_(ioc),
        options_(std::move(options)),
        router_(std::move(router)),
        chain_(standard_chain(options_, metrics, std::move(buckets))) {}

  void start() {
    const tcp::endpoint ep = parse_listen(options_.listen);
    acceptor_.emplace(asio::make_strand(ioc_));
    acceptor_->open(ep.protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    acceptor_->bind(ep);
    acceptor_->listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_->local_endpoint().port();
    asio::co_spawn(acceptor_->get_executor(), accept_loop(shared_from_this()), log_failure("http_accept"));
  }

  static asio::awaitable<bool> stop(std::shared_ptr<Impl> self, std::chrono::milliseconds grace) {
    self->begin_stop();
    const bool drained = co_await self->gate_.close(grace);
    self->close_connections(false);
    if (!drained) log::warn("http_stop_timeout", {{"in_flight", std::to_string(self->gate_.count())}});
    co_return drained;
  }

  void begin_stop() {
    stopping_ = true;
    if (acceptor_) {
      asio::post(acceptor_->get_executor(), [self = shared_from_this()] {
        boost::system::error_code ec;
        self->acceptor_->close(ec);
      });
    }
    close_connections(true);
  }

  std::uint16_t port() const { return port_; }
  std::vector<UpgradeRoute> upgrades_;  // set before start()

 private:
  void close_connections(bool idle_only) {
    std::vector<std::shared_ptr<Connection>> conns;
    {
      std::lock_guard lock(mu_);
      conns.assign(conns_.begin(), conns_.end());
    }
    for (auto& c : conns) {
      asio::post(c->executor, [c, idle_only] {
        if (c->handed_over || (idle_only && !c->idle)) return;
        boost::system::error_code ec;
        c->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        c->stream.close();
      });
    }
  }

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor_->async_accept(asio::make_strand(self->ioc_), kTuple);
      if (ec) {
        if (self->stopping_ || ec == asio::error::operation_aborted || !self->acceptor_->is_open()) co_return;
        log::warn("http_accept_failed", {{"error", ec.message()}});
        // Out of descriptors and the like: back off so the loop does not spin.
        asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
        co_await pause.async_wait(kTuple);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto conn = std::make_shared<Connection>(std::move(socket));
      asio::co_spawn(conn->executor, session(self, conn), log_failure("http_session"));
    }
  }

  static asio::awaitable<void> session(std::shared_ptr<Impl> self, std::shared_ptr<Connection> c) {
    {
      std::lock_guard lock(self->mu_);
      self->conns_.insert(c);
    }
    struct Untrack {
      Impl& s;
      const std::shared_ptr<Connection>& c;
      ~Untrack() {
        std::lock_guard lock(s.mu_);
        s.conns_.erase(c);
      }
    } untrack{*self, c};

    boost::system::error_code ec;
    const tcp::endpoint peer = c->stream.socket().remote_endpoint(ec);
    if (!ec) c->remote = peer.address().to_string();

    co_await self->serve(*c);

    if (!c->handed_over) {
      c->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      c->stream.close();
    }
  }

  // Requests on one connection, one after the other, until close, error, stop or hand-over.
  asio::awaitable<void> serve(Connection& c) {
    const HttpOptions& o = options_;
    beast::flat_buffer buffer;
    std::optional<Parser> parser;
    bool first = true;
    while (!stopping_) {
      parser.emplace();
      parser->header_limit(static_cast<std::uint32_t>(o.header_limit));
      parser->body_limit(o.body_limit);
      c.idle = true;
      c.stream.expires_after(first ? o.header_timeout : o.idle_timeout);
      auto [ec, n] = co_await bhttp::async_read_header(c.stream, buffer, *parser, kTuple);
      c.idle = false;
      first = false;
      if (ec) {
        co_await reject_unreadable(c, *parser, ec);
        co_return;
      }
      if (!gate_.try_enter()) {
        co_await early_error(c, *parser, 503, "shutting_down", "the server is shutting down");
        co_return;
      }
      Gate::Holder in_flight(gate_);
      const auto start = std::chrono::steady_clock::now();
      if (!parser->is_done()) {
        if (const auto expect = parser->get().find(bhttp::field::expect);
            expect != parser->get().end() && beast::iequals(expect->value(), "100-continue")) {
          // curl and others wait for this before sending larger bodies.
          bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, parser->get().version()};
          c.stream.expires_after(o.write_timeout);
          std::tie(ec, n) = co_await bhttp::async_write(c.stream, cont, kTuple);
          if (ec) co_return;
        }
        c.stream.expires_after(o.read_timeout);
        std::tie(ec, n) = co_await bhttp::async_read(c.stream, buffer, *parser, kTuple);
        if (ec) {
          co_await reject_unreadable(c, *parser, ec);
          co_return;
        }
      }
      if (!co_await handle(c, *parser, start)) co_return;
    }
  }

  // Runs one complete request through the chain and answers it. False: the connection is done.
  asio::awaitable<bool> handle(Connection& c, Parser& parser, std::chrono::steady_clock::time_point start) {
    BeastRequest& m = parser.get();
    Exchange ex;
    ex.start = start;
    const UpgradeRoute* up = nullptr;
    if (!upgrades_.empty() && beast::websocket::is_upgrade(m)) up = find_upgrade(m.target());
    if (!fill_request(m, ex.request, up == nullptr)) {
      co_await early_error(c, parser, 400, "bad_request", "malformed request target");
      co_return false;
    }
    ex.request.remote_ip = client_ip(ex.request, c.remote, options_.trust_forwarded_for);
    if (up) {
      ex.upgrade = true;
      ex.access = &up->access;
      ex.request.route = up->prefix;
    } else {
      Match match = router_.match(ex.request.method, ex.request.path);
      ex.route = match.route;
      if (match.route) {
        ex.access = &match.route->access;
        ex.request.route = match.route->pattern;
        ex.request.params = std::move(match.params);
      } else {
        ex.allowed = std::move(match.allowed);
      }
    }

    Response res;
    try {
      res = co_await chain_.run(ex);
    } catch (const std::exception& e) {
      log::error("http_middleware_failed", {{"request_id", ex.request.request_id}, {"error", e.what()}});
      res = Response::error(500, "internal_error", "internal server error", ex.request.request_id);
    }

    if (up && res.status == 101) {
      c.handed_over = true;
      c.stream.expires_never();
      up->handler(std::move(c.stream), parser.release(), std::move(ex.request));
      co_return false;
    }
    if (res.status == 101)
      res = Response::error(500, "internal_error", "internal server error", ex.request.request_id);
    const bool keep_alive = m.keep_alive() && options_.keep_alive && !stopping_;
    const bool written =
        co_await write_response(c, std::move(res), m.version(), keep_alive, options_.write_timeout);
    co_return written&& keep_alive;
  }

  const UpgradeRoute* find_upgrade(std::string_view target) const {
    for (const auto& u : upgrades_) {
      if (target.starts_with(u.prefix)) return &u;
    }
    return nullptr;
  }

  // A request that could not be read whole: answer the ones worth answering, then close.
  asio::awaitable<void> reject_unreadable(Connection& c, Parser& parser, boost::system::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      co_await early_error(c, parser, 413, "payload_too_large", "request body is too large");
    } else if (ec == bhttp::error::header_limit) {
      co_await early_error(c, parser, 431, "headers_too_large", "request headers are too large");
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
               ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      co_await early_error(c, parser, 400, "bad_request", "malformed HTTP request");
    }
  }

  // Errors decided before the chain could run; answered with Connection: close.
  asio::awaitable<void> early_error(Connection& c, Parser& parser, int status, std::string_view code,
                                    std::string_view message) {
    const BeastRequest& m = parser.get();
    const auto id_field = m.find("X-Request-Id");
    const std::string id = resolve_request_id(
        id_field == m.end() ? std::nullopt : std::optional<std::string_view>(id_field->value()));
    log::warn("http_request_rejected",
              {{"status", std::to_string(status)}, {"code", code}, {"request_id", id}, {"remote", c.remote}});
    Response r = Response::error(status, code, message, id);
    r.headers.emplace_back("X-Request-Id", id);
    co_await write_response(c, std::move(r), m.version() ? m.version() : 11, false, options_.write_timeout);
  }

  asio::io_context& ioc_;
  const HttpOptions options_;
  const Router router_;
  const Chain chain_;
  std::optional<tcp::acceptor> acceptor_;  // used on its strand after start()
  std::atomic<std::uint16_t> port_{0};
  std::atomic<bool> stopping_{false};
  Gate gate_;  // in-flight requests
  std::mutex mu_;
  std::unordered_set<std::shared_ptr<Connection>> conns_;  // guarded by mu_
};

Server::Server(asio::io_context& ioc, HttpOptions options, Router router, metrics::Registry& metrics,
               std::shared_ptr<BucketStore> buckets)
    : impl_(std::make_shared<Impl>(ioc, std::move(options), std::move(router), metrics, std::move(buckets))) {
}

Server::~Server() {
  impl_->begin_stop();
}

void Server::set_upgrade_handler(std::string path_prefix, UpgradeHandler handler, Access access) {
  impl_->upgrades_.push_back({std::move(path_prefix), std::move(handler), std::move(access)});
}

void Server::start() {
  impl_->start();
}

std::uint16_t Server::port() const {
  return impl_->port();
}

asio::awaitable<bool> Server::stop(std::chrono::milliseconds grace) {
  return Impl::stop(impl_, grace);
}

}  // namespace comms::http
