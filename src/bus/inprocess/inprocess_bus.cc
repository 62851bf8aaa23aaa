#include "bus/inprocess/inprocess_bus.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "bus/masstransit.h"
#include "common/ids.h"
#include "common/log.h"

namespace comms::bus {

namespace asio = boost::asio;

InProcessBus::InProcessBus(asio::io_context& io, metrics::Registry& registry, InProcessOptions options)
    : io_(io), options_(std::move(options)), metrics_(registry), receiver_(metrics_, options_.retry_limit) {
  metrics_.connected.labels({"inprocess"}).set(1);
}

InProcessBus::~InProcessBus() = default;

void InProcessBus::subscribe(const std::string& type, Consumer consumer) {
  if (started_) throw std::logic_error("subscribe() after start()");
  receiver_.subscribe(type, std::move(consumer));
}

void InProcessBus::start() {
  started_ = true;
  log::info("bus_started", {{"bus", "inprocess"}, {"queue", options_.queue}});
}

asio::awaitable<void> InProcessBus::publish(const std::string& type, const std::string& message_json,
                                            PublishOptions options) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(message_json, ec);
  if (ec || !parsed.is_object())
    throw std::invalid_argument("publish(" + type + "): message must be a JSON object");
  Envelope e;
  e.message_id = options.message_id.empty() ? new_uuid() : options.message_id;
  e.correlation_id = options.correlation_id;
  e.conversation_id = options.conversation_id.empty() ? e.message_id : options.conversation_id;
  e.source_address = "loopback://localhost/" + options_.queue;
  e.destination_address = "loopback://localhost/" + options_.ns + ":" + type;
  e.message_type = {message_urn(options_.ns, type)};
  e.message = message_json;
  e.sent_time = format_iso8601(now_ms());
  e.host_json = boost::json::serialize(host_info());
  if (stopped_) {
    metrics_.publish_failures.labels({metrics_.type_label(type)}).inc();
    throw PublishError("bus stopped");
  }
  // Like a broker exchange without bindings: a type nobody here consumes goes nowhere.
  if (receiver_.has(type)) co_await deliver(std::move(e));
  metrics_.published.labels({metrics_.type_label(type)}).inc();
}

asio::awaitable<Verdict> InProcessBus::deliver(Envelope envelope) {
  if (stopped_) throw PublishError("bus stopped");
  struct InFlight {
    std::shared_ptr<std::atomic<int>> n;
    ~InFlight() { --*n; }
  } guard{in_flight_};
  ++*in_flight_;
  co_return co_await asio::co_spawn(io_, run(std::move(envelope)), asio::use_awaitable);
}

asio::awaitable<Verdict> InProcessBus::run(Envelope envelope) {
  Verdict v = co_await receiver_.handle(envelope);
  if (v.kind != Verdict::Kind::ack) record(v, std::move(envelope));
  co_return v;
}

void InProcessBus::record(const Verdict& v, Envelope envelope) {
  DeadLetter d;
  const bool fault = v.kind == Verdict::Kind::fault;
  d.queue = options_.queue + (fault ? "_error" : "_skipped");
  d.reason = fault ? "fault" : "dead-letter";
  d.type = v.type;
  d.fault_message = fault ? v.reason : "";
  d.exception_type = v.exception_type;
  d.envelope = std::move(envelope);
  d.at = now_ms();
  std::lock_guard lock(mu_);
  dead_.push_back(std::move(d));
  while (dead_.size() > options_.dead_letter_capacity) dead_.pop_front();
}

std::vector<DeadLetter> InProcessBus::dead_letters() const {
  std::lock_guard lock(mu_);
  return {dead_.begin(), dead_.end()};
}

asio::awaitable<void> InProcessBus::stop(std::chrono::milliseconds timeout) {
  stopped_ = true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (*in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  metrics_.connected.labels({"inprocess"}).set(0);
  log::info("bus_stopped", {{"bus", "inprocess"}, {"abandoned", std::to_string(in_flight_->load())}});
}

}  // namespace comms::bus
