#include "bus/rabbitmq/consume_loop.h"

#include <amqp_framing.h>

#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/thread_name.h"

namespace comms::bus::rabbitmq {
namespace {

constexpr amqp_channel_t kConsumeChannel = 1;
constexpr amqp_channel_t kTopologyChannel = 2;
// Deliveries read per turn before pending acks are sent again.
constexpr int kReadBurst = 256;

std::string text(amqp_bytes_t b) {
  return std::string(static_cast<const char*>(b.bytes), b.len);
}
amqp_bytes_t view(const std::string& s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

}  // namespace

ConsumeLoop::ConsumeLoop(ConnectionParams params, ConsumeOptions options, BusMetrics& metrics,
                         OnDelivery on_delivery)
    : params_(std::move(params)),
      options_(std::move(options)),
      metrics_(metrics),
      on_delivery_(std::move(on_delivery)) {
  metrics_.connected.labels({"consume"}).set(0);
}

ConsumeLoop::~ConsumeLoop() {
  if (thread_.joinable()) {
    close({});
    thread_.join();
  }
}

void ConsumeLoop::start() {
  thread_ = named_thread("amqp-consume", [this] { run(); });
}

void ConsumeLoop::ack(std::uint64_t generation, std::uint64_t tag) {
  bool first;
  {
    std::lock_guard lock(mu_);
    first = acks_.empty();
    acks_.emplace_back(generation, tag);
  }
  // The loop drains the eventfd before it takes the acks, so one wake-up per batch is enough.
  if (first) wake_.notify();
}

void ConsumeLoop::cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
  }
  wake_.notify();
}

void ConsumeLoop::close(std::function<void()> closed) {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    closing_ = true;
    if (closed) closed_ = std::move(closed);
  }
  cv_.notify_all();
  wake_.notify();
}

void ConsumeLoop::declare_topology(Connection& c) {
  const std::string& q = options_.queue;
  for (const std::string& side : {q + "_error", q + "_skipped", q}) {
    c.declare_exchange(kTopologyChannel, side);
    c.declare_queue(kTopologyChannel, side);
    c.bind_queue(kTopologyChannel, side, side);
  }
  for (const auto& type_exchange : options_.type_exchanges) {
    c.declare_exchange(kTopologyChannel, type_exchange);
    c.bind_exchange(kTopologyChannel, q, type_exchange);
  }
}

void ConsumeLoop::run() {
  auto backoff = options_.reconnect_min;
  for (std::uint64_t generation = 1;; ++generation) {
    {
      std::lock_guard lock(mu_);
      if (closing_) break;
    }
    if (generation > 1) metrics_.reconnects.labels({"consume"}).inc();
    try {
      Connection c(params_, "consume");
      c.open_channel(kTopologyChannel);
      declare_topology(c);
      c.open_channel(kConsumeChannel);
      amqp_basic_qos(c.get(), kConsumeChannel, 0,
                     static_cast<std::uint16_t>(std::clamp(options_.prefetch, 1, 65535)), 0);
      c.check(amqp_get_rpc_reply(c.get()), "basic.qos");
      connected_ = true;
      metrics_.connected.labels({"consume"}).set(1);
      log::info("bus_connected", {{"connection", "consume"},
                                  {"host", params_.host},
                                  {"vhost", params_.vhost},
                                  {"queue", options_.queue},
                                  {"prefetch", std::to_string(options_.prefetch)}});
      backoff = options_.reconnect_min;
      session(c, generation);
      connected_ = false;
      metrics_.connected.labels({"consume"}).set(0);
      break;
    } catch (const AmqpError& e) {
      connected_ = false;
      metrics_.connected.labels({"consume"}).set(0);
      log::warn("bus_connection_lost", {{"connection", "consume"}, {"error", e.what()}});
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, backoff, [this] { return closing_; });
    backoff = std::min(backoff * 2, options_.reconnect_max);
  }
  std::function<void()> closed;
  {
    std::lock_guard lock(mu_);
    closed = std::move(closed_);
  }
  log::info("bus_closed", {{"connection", "consume"}});
  if (closed) closed();
}

void ConsumeLoop::session(Connection& c, std::uint64_t generation) {
  std::set<std::uint64_t> outstanding;  // delivered on this connection, not yet acknowledged
  std::string consumer_tag;
  bool consuming = false;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> acks;

  for (;;) {
    wake_.drain();
    bool cancelled, closing;
    {
      std::lock_guard lock(mu_);
      acks.swap(acks_);
      cancelled = cancelled_;
      closing = closing_;
    }

    if (!cancelled && !consuming) {
      auto* ok = amqp_basic_consume(c.get(), kConsumeChannel, view(options_.queue), amqp_empty_bytes, 0, 0, 0,
                                    amqp_empty_table);
      c.check(amqp_get_rpc_reply(c.get()), "basic.consume " + options_.queue);
      consumer_tag = text(ok->consumer_tag);
      consuming = true;
    } else if (cancelled && consuming) {
      amqp_basic_cancel(c.get(), kConsumeChannel, view(consumer_tag));
      c.check(amqp_get_rpc_reply(c.get()), "basic.cancel");
      consuming = false;
    }

    // Acknowledge the longest prefix of outstanding tags with one multiple-ack, the rest one by one.
    std::set<std::uint64_t> done;
    for (const auto& [gen, tag] : acks)
      if (gen == generation && outstanding.count(tag)) done.insert(tag);
    acks.clear();
    std::uint64_t upto = 0;
    while (!outstanding.empty() && done.count(*outstanding.begin())) {
      upto = *outstanding.begin();
      done.erase(upto);
      outstanding.erase(outstanding.begin());
    }
    if (upto) c.check_status(amqp_basic_ack(c.get(), kConsumeChannel, upto, 1), "basic.ack");
    for (std::uint64_t tag : done) {
      c.check_status(amqp_basic_ack(c.get(), kConsumeChannel, tag, 0), "basic.ack");
      outstanding.erase(tag);
    }
    if (closing) return;

    for (int i = 0; i < kReadBurst; ++i) {
      amqp_envelope_t env;
      timeval zero{0, 0};
      const amqp_rpc_reply_t r = amqp_consume_message(c.get(), &env, &zero, 0);
      if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        Delivery d;
        d.generation = generation;
        d.tag = env.delivery_tag;
        d.redelivered = env.redelivered != 0;
        d.exchange = text(env.exchange);
        d.routing_key = text(env.routing_key);
        d.body = text(env.message.body);
        d.properties = Properties(env.message.properties);
        amqp_destroy_envelope(&env);
        outstanding.insert(d.tag);
        // After basic.cancel the broker may still have sent a few: they stay unacknowledged and return
        // to the queue when the connection closes.
        if (consuming) on_delivery_(std::move(d));
        continue;
      }
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) break;
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
          r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t f;
        if (!c.next_frame(f) || f.frame_type != AMQP_FRAME_METHOD) continue;
        if (f.payload.method.id == AMQP_BASIC_CANCEL_METHOD)
          throw AmqpError("the broker cancelled the consumer");
        c.handle_close(f);
        continue;
      }
      c.check(r, "basic.deliver");
    }
    amqp_maybe_release_buffers(c.get());
    c.wait(wake_.fd(), std::chrono::milliseconds(1000));
  }
}

}  // namespace comms::bus::rabbitmq
