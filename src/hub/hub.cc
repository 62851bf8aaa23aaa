#include "hub/hub.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "http/server.h"
#include "http/upgrade.h"
#include "hub/groups.h"
#include "hub/hub_core.h"
#include "hub/inapp_view.h"
#include "hub/protocol.h"

namespace comms::hub {
namespace {

namespace asio = boost::asio;

// Waits for a backplane's `done`, or for the timeout, whichever comes first; the first one decides.
template <class Handler>
class DeliveryWait : public std::enable_shared_from_this<DeliveryWait<Handler>> {
 public:
  DeliveryWait(Handler h, asio::io_context& io)
      : handler_(std::move(h)),
        work_(asio::make_work_guard(asio::get_associated_executor(handler_))),
        timer_(asio::make_strand(io)) {}

  void start(std::chrono::milliseconds timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->complete(false);
    });
  }

  void complete(bool delivered) {
    if (done_.exchange(true)) return;
    asio::post(timer_.get_executor(), [self = this->shared_from_this()] { self->timer_.cancel(); });
    asio::post(work_.get_executor(), [self = this->shared_from_this(), delivered]() mutable {
      std::move(self->handler_)(delivered);
      self->work_.reset();
    });
  }

 private:
  Handler handler_;
  asio::executor_work_guard<asio::associated_executor_t<Handler>> work_;
  asio::steady_timer timer_;  // used on its own strand
  std::atomic<bool> done_{false};
};

asio::awaitable<bool> publish(HubCore& core, const std::string& group, Frame frame) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(bool)>(
      [&core, &group, frame = std::move(frame)](auto handler) mutable {
        auto wait = std::make_shared<DeliveryWait<decltype(handler)>>(std::move(handler), core.io);
        wait->start(core.options.delivery_timeout);
        core.backplane->publish(group, std::move(frame),
                                [wait](bool delivered) { wait->complete(delivered); });
      },
      asio::use_awaitable);
}

}  // namespace

Hub::Hub(asio::io_context& io, store::Store& store, metrics::Registry& metrics, HubOptions options,
         std::shared_ptr<Backplane> backplane)
    : core_(std::make_shared<HubCore>(io, store, metrics, std::move(options),
                                      backplane ? std::move(backplane) : make_in_process_backplane())) {}

Hub::~Hub() {
  if (!core_->stopping()) {
    core_->begin_stop();
    core_->finish_stop();
  }
}

void Hub::attach(http::Server& server) {
  using http::Role;
  server.set_upgrade_handler(
      core_->options.path,
      http::UpgradeHandler(
          [core = core_](boost::beast::tcp_stream&& stream,
                         boost::beast::http::request<boost::beast::http::string_body>&& request,
                         http::Request&& parsed) {
            core->upgrade(std::move(stream), std::move(request), std::move(parsed));
          }),
      http::Access::roles_of({Role::customer, Role::staff, Role::service}));
}

std::optional<boost::json::object> Hub::negotiate(const http::Principal& principal, int negotiate_version) {
  if (core_->stopping() || !principal.authenticated()) return std::nullopt;
  auto issued = core_->negotiations.issue(principal.sub);
  if (!issued) return std::nullopt;
  boost::json::object o;
  if (negotiate_version >= 1) {
    o["connectionId"] = issued->connection_id;
    o["connectionToken"] = issued->connection_token;
    o["negotiateVersion"] = 1;
  } else {
    // Version 0 clients connect with ?id=<connectionId>: the id is the token.
    o["connectionId"] = issued->connection_token;
    o["negotiateVersion"] = 0;
  }
  o["availableTransports"] = boost::json::array{
      boost::json::object{{"transport", "WebSockets"}, {"transferFormats", boost::json::array{"Text"}}}};
  return o;
}

void Hub::start() {
  core_->start();
}

asio::awaitable<void> Hub::stop(std::chrono::milliseconds grace) {
  core_->begin_stop();
  asio::steady_timer poll(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (core_->size() > 0 && std::chrono::steady_clock::now() < deadline) {
    poll.expires_after(std::chrono::milliseconds(10));
    co_await poll.async_wait(asio::use_awaitable);
  }
  core_->finish_stop();
}

asio::awaitable<bool> Hub::notify(domain::Notification n) {
  const std::string group = group_for_recipient(n.recipient_id);
  Frame frame = std::make_shared<const std::string>(
      invocation_record("ReceiveNotification", boost::json::array{inapp_view(n)}));
  bool delivered = false;
  if (!core_->stopping()) delivered = co_await publish(*core_, group, std::move(frame));
  (delivered ? core_->metrics.delivered : core_->metrics.undelivered).inc();
  co_return delivered;
}

std::size_t Hub::connections() const {
  return core_->size();
}

const std::string& Hub::path() const {
  return core_->options.path;
}

}  // namespace comms::hub
