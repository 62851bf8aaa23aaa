#include "bus/rabbitmq/rabbitmq_bus.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <optional>

#include "bus/masstransit.h"
#include "bus/rabbitmq/consume_loop.h"
#include "bus/rabbitmq/publish_loop.h"
#include "common/async.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"

namespace comms::bus::rabbitmq {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// Decrements the in-flight count when a handler's frame goes away, even after the bus is gone.
struct InFlight {
  explicit InFlight(std::shared_ptr<std::atomic<int>> n) : n_(std::move(n)) { ++*n_; }
  ~InFlight() { --*n_; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  std::shared_ptr<std::atomic<int>> n_;
};

void set_host_headers(Properties& p) {
  static constexpr std::pair<const char*, const char*> kHost[] = {
      {"MT-Host-MachineName", "machineName"},
      {"MT-Host-ProcessName", "processName"},
      {"MT-Host-Assembly", "assembly"},
      {"MT-Host-AssemblyVersion", "assemblyVersion"},
      {"MT-Host-FrameworkVersion", "frameworkVersion"},
      {"MT-Host-OperatingSystemVersion", "operatingSystemVersion"},
  };
  const json::object& host = host_info();
  for (const auto& [header, field] : kHost)
    if (const json::string* s = host.at(field).if_string()) p.set_header(header, *s);
  p.set_header("MT-Host-ProcessId", static_cast<std::int32_t>(host.at("processId").as_int64()));
}

}  // namespace

RabbitMqBus::RabbitMqBus(asio::io_context& io, metrics::Registry& registry, const BusOptions& options)
    : io_(io),
      options_(options),
      params_([&] {
        ConnectionParams p = ConnectionParams::parse(options.url);
        p.heartbeat_seconds = options.heartbeat_seconds;
        return p;
      }()),
      metrics_(registry),
      receiver_(metrics_, options.retry_limit) {}

RabbitMqBus::~RabbitMqBus() {
  stopping_ = true;
  consumer_.reset();
  publisher_.reset();
}

void RabbitMqBus::subscribe(const std::string& type, Consumer consumer) {
  if (consumer_) throw std::logic_error("subscribe() after start()");
  receiver_.subscribe(type, std::move(consumer));
}

void RabbitMqBus::start() {
  if (consumer_) return;
  publisher_ =
      std::make_unique<PublishLoop>(params_, options_.reconnect_min, options_.reconnect_max, metrics_);
  ConsumeOptions co;
  co.queue = options_.queue;
  for (const auto& type : receiver_.types()) co.type_exchanges.push_back(options_.ns + ":" + type);
  co.prefetch = options_.prefetch;
  co.reconnect_min = options_.reconnect_min;
  co.reconnect_max = options_.reconnect_max;
  consumer_ = std::make_unique<ConsumeLoop>(params_, std::move(co), metrics_, [this](Delivery&& d) {
    asio::co_spawn(io_, handle(std::move(d)), asio::detached);
  });
  log::info("bus_started", {{"bus", "rabbitmq"},
                            {"host", params_.host},
                            {"vhost", params_.vhost},
                            {"queue", options_.queue},
                            {"types", std::to_string(receiver_.types().size())}});
  publisher_->start();
  consumer_->start();
}

bool RabbitMqBus::connected() const {
  return consumer_ && publisher_ && consumer_->connected() && publisher_->connected();
}

std::uint64_t RabbitMqBus::publish_epoch() const {
  return publisher_ ? publisher_->epoch() : 0;
}

asio::awaitable<void> RabbitMqBus::publish(const std::string& type, const std::string& message_json,
                                           PublishOptions options) {
  if (!publisher_) throw PublishError("bus not started");
  Envelope e;
  e.message_id = options.message_id.empty() ? new_uuid() : options.message_id;
  e.correlation_id = options.correlation_id;
  e.conversation_id = options.conversation_id.empty() ? e.message_id : options.conversation_id;
  e.source_address = params_.address(options_.queue);
  e.destination_address = params_.address(options_.ns + ":" + type);
  e.message_type = {message_urn(options_.ns, type)};
  e.message = message_json;
  e.sent_time = format_iso8601(now_ms());
  e.host_json = json::serialize(host_info());

  PublishRequest r;
  r.exchange = options_.ns + ":" + type;
  try {
    r.body = encode_envelope(e);
  } catch (const EnvelopeError&) {
    throw std::invalid_argument("publish(" + type + "): message must be a JSON object");
  }
  r.properties.set_content_type(kMassTransitContentType);
  r.properties.set_message_id(e.message_id);
  if (!e.correlation_id.empty()) r.properties.set_correlation_id(e.correlation_id);
  r.properties.set_persistent();
  r.type_label = metrics_.type_label(type);
  r.deadline = std::chrono::steady_clock::now() + options_.publish_timeout;
  r.epoch = options.epoch;
  co_await await_callback([&](Callback done) {
    r.done = std::move(done);
    publisher_->publish(std::move(r));
  });
}

asio::awaitable<void> RabbitMqBus::handle(Delivery d) {
  InFlight guard(in_flight_);
  try {
    Verdict v;
    std::optional<Envelope> e;
    try {
      e = decode_envelope(d.body, d.properties.content_type());
      e->redelivered = d.redelivered;
    } catch (const EnvelopeError& err) {
      v = receiver_.undecodable(err.what(), d.properties.message_id());
    }
    if (e) v = co_await receiver_.handle(*e);
    if (v.kind == Verdict::Kind::ack || co_await move(d, v)) consumer_->ack(d.generation, d.tag);
  } catch (const std::exception& ex) {
    // Not acknowledged: the broker redelivers it after the connection closes.
    log::error("bus_delivery_unhandled", {{"error", ex.what()}});
  }
}

asio::awaitable<bool> RabbitMqBus::move(const Delivery& d, const Verdict& v) {
  const bool fault = v.kind == Verdict::Kind::fault;
  Properties p(*d.properties.get());
  set_host_headers(p);
  p.set_header("MT-Reason", fault ? "fault" : "dead-letter");
  if (fault) {
    p.set_header("MT-Fault-ExceptionType", v.exception_type);
    p.set_header("MT-Fault-Message", v.reason);
    p.set_header("MT-Fault-Timestamp", format_iso8601(now_ms()));
    p.set_header("MT-Fault-StackTrace", "");
    if (!v.type.empty()) p.set_header("MT-Fault-MessageType", message_urn(options_.ns, v.type));
    if (v.retries > 0) p.set_header("MT-Fault-RetryCount", static_cast<std::int32_t>(v.retries));
  }
  p.clear_expiration();
  const std::string target = options_.queue + (fault ? "_error" : "_skipped");

  auto delay = std::chrono::milliseconds(250);
  for (;;) {
    PublishRequest r;
    r.exchange = target;
    r.bind_queue = true;
    r.routing_key = d.routing_key;
    r.body = d.body;
    r.properties = Properties(*p.get());
    r.type_label = metrics_.type_label(target);
    r.deadline = std::chrono::steady_clock::now() + options_.publish_timeout;
    try {
      co_await await_callback([&](Callback done) {
        r.done = std::move(done);
        publisher_->publish(std::move(r));
      });
      co_return true;
    } catch (const PublishError& e) {
      log::warn("bus_move_failed", {{"queue", target}, {"error", e.what()}});
    }
    if (stopping_) co_return false;
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
}

asio::awaitable<void> RabbitMqBus::stop(std::chrono::milliseconds timeout) {
  if (!consumer_) co_return;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  consumer_->cancel();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (*in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  stopping_ = true;
  const int abandoned = *in_flight_;
  co_await await_callback([&](Callback done) { consumer_->close([done] { done(nullptr); }); });
  const auto left = std::max(
      std::chrono::milliseconds(0),
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  co_await await_callback([&](Callback done) { publisher_->close(left, [done] { done(nullptr); }); });
  log::info("bus_stopped", {{"bus", "rabbitmq"}, {"abandoned", std::to_string(abandoned)}});
}

}  // namespace comms::bus::rabbitmq
