#include "bus/rabbitmq/publish_loop.h"

#include <amqp_framing.h>

#include <algorithm>
#include <map>
#include <set>

#include "bus/message_bus.h"
#include "common/log.h"
#include "common/thread_name.h"

namespace comms::bus::rabbitmq {
namespace {

using Clock = std::chrono::steady_clock;

constexpr amqp_channel_t kPublishChannel = 1;
constexpr amqp_channel_t kTopologyChannel = 2;

amqp_bytes_t view(const std::string& s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

void complete(PublishRequest& r, BusMetrics& m, const char* error) {
  if (error) {
    m.publish_failures.labels({r.type_label}).inc();
    r.done(std::make_exception_ptr(PublishError(error)));
  } else {
    m.published.labels({r.type_label}).inc();
    r.done(nullptr);
  }
}

}  // namespace

PublishLoop::PublishLoop(ConnectionParams params, std::chrono::milliseconds reconnect_min,
                         std::chrono::milliseconds reconnect_max, BusMetrics& metrics)
    : params_(std::move(params)),
      reconnect_min_(reconnect_min),
      reconnect_max_(reconnect_max),
      metrics_(metrics) {
  metrics_.connected.labels({"publish"}).set(0);
}

PublishLoop::~PublishLoop() {
  if (thread_.joinable()) {
    close(std::chrono::milliseconds(0), {});
    thread_.join();
  }
}

void PublishLoop::start() {
  thread_ = named_thread("amqp-publish", [this] { run(); });
}

void PublishLoop::publish(PublishRequest r) {
  bool first = false, refused = false, stale = false;
  {
    std::lock_guard lock(mu_);
    if (closing_) {
      refused = true;
    } else if (r.epoch && *r.epoch != epoch_) {
      stale = true;
    } else {
      first = queue_.empty();
      queue_.push_back(std::move(r));
    }
  }
  if (refused) {
    complete(r, metrics_, "bus stopped");
    return;
  }
  if (stale) {
    complete(r, metrics_, "connection lost before the message was sent");
    return;
  }
  // The loop drains the eventfd before it takes the queue, so one wake-up per batch is enough.
  if (first) wake_.notify();
}

void PublishLoop::close(std::chrono::milliseconds drain, std::function<void()> closed) {
  {
    std::lock_guard lock(mu_);
    if (!closing_) drain_until_ = Clock::now() + drain;
    closing_ = true;
    if (closed) closed_ = std::move(closed);
  }
  cv_.notify_all();
  wake_.notify();
}

void PublishLoop::fail_expired(bool all, const char* why) {
  std::deque<PublishRequest> failed;
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (all || it->deadline <= now) {
        failed.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& r : failed) complete(r, metrics_, why);
}

void PublishLoop::run() {
  auto backoff = reconnect_min_;
  for (bool first = true;; first = false) {
    {
      std::lock_guard lock(mu_);
      if (closing_ && (queue_.empty() || Clock::now() >= drain_until_)) break;
    }
    if (!first) metrics_.reconnects.labels({"publish"}).inc();
    try {
      Connection c(params_, "publish");
      c.open_channel(kPublishChannel);
      amqp_confirm_select(c.get(), kPublishChannel);
      c.check(amqp_get_rpc_reply(c.get()), "confirm.select");
      c.open_channel(kTopologyChannel);
      connected_ = true;
      metrics_.connected.labels({"publish"}).set(1);
      log::info("bus_connected",
                {{"connection", "publish"}, {"host", params_.host}, {"vhost", params_.vhost}});
      backoff = reconnect_min_;
      session(c);
      connected_ = false;
      metrics_.connected.labels({"publish"}).set(0);
      break;
    } catch (const AmqpError& e) {
      connected_ = false;
      metrics_.connected.labels({"publish"}).set(0);
      log::warn("bus_connection_lost", {{"connection", "publish"}, {"error", e.what()}});
    }
    fail_expired(false, "no connection to the broker");
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, backoff, [this] { return closing_; });
    }
    fail_expired(false, "no connection to the broker");
    backoff = std::min(backoff * 2, reconnect_max_);
  }
  fail_expired(true, "bus stopped");
  std::function<void()> closed;
  {
    std::lock_guard lock(mu_);
    closed = std::move(closed_);
  }
  log::info("bus_closed", {{"connection", "publish"}});
  if (closed) closed();
}

void PublishLoop::session(Connection& c) {
  std::map<std::uint64_t, PublishRequest> pending;  // by delivery tag (publish sequence number)
  std::uint64_t seq = 0;
  std::set<std::string, std::less<>> declared;
  std::deque<PublishRequest> batch;

  const auto settle = [&](std::uint64_t tag, bool multiple, const char* error) {
    if (multiple) {
      const auto end = pending.upper_bound(tag);
      for (auto it = pending.begin(); it != end; ++it) complete(it->second, metrics_, error);
      pending.erase(pending.begin(), end);
    } else if (auto it = pending.find(tag); it != pending.end()) {
      complete(it->second, metrics_, error);
      pending.erase(it);
    }
  };

  try {
    for (;;) {
      wake_.drain();
      bool closing;
      Clock::time_point drain_until;
      {
        std::lock_guard lock(mu_);
        batch.swap(queue_);
        closing = closing_;
        drain_until = drain_until_;
      }
      while (!batch.empty()) {
        PublishRequest& r = batch.front();
        if (declared.find(r.exchange) == declared.end()) {
          c.declare_exchange(kTopologyChannel, r.exchange);
          if (r.bind_queue) {
            c.declare_queue(kTopologyChannel, r.exchange);
            c.bind_queue(kTopologyChannel, r.exchange, r.exchange);
          }
          declared.insert(r.exchange);
        }
        c.check_status(amqp_basic_publish(c.get(), kPublishChannel, view(r.exchange), view(r.routing_key), 0,
                                          0, r.properties.get(), view(r.body)),
                       "basic.publish");
        pending.emplace(++seq, std::move(r));
        batch.pop_front();
      }

      amqp_frame_t f;
      while (c.next_frame(f)) {
        if (f.frame_type != AMQP_FRAME_METHOD) continue;
        switch (f.payload.method.id) {
          case AMQP_BASIC_ACK_METHOD: {
            auto* a = static_cast<amqp_basic_ack_t*>(f.payload.method.decoded);
            settle(a->delivery_tag, a->multiple, nullptr);
            break;
          }
          case AMQP_BASIC_NACK_METHOD: {
            auto* n = static_cast<amqp_basic_nack_t*>(f.payload.method.decoded);
            settle(n->delivery_tag, n->multiple, "the broker refused the message (nack)");
            break;
          }
          case AMQP_CONNECTION_BLOCKED_METHOD:
            log::warn("bus_connection_blocked", {{"connection", "publish"}});
            break;
          case AMQP_CONNECTION_UNBLOCKED_METHOD:
            log::info("bus_connection_unblocked", {{"connection", "publish"}});
            break;
          default:
            c.handle_close(f);
        }
      }
      amqp_maybe_release_buffers(c.get());

      if (closing) {
        bool queued;
        {
          std::lock_guard lock(mu_);
          queued = !queue_.empty();
        }
        if (pending.empty() && !queued) return;
        if (Clock::now() >= drain_until) {
          for (auto& [tag, r] : pending) complete(r, metrics_, "bus stopped before the broker confirmed");
          return;
        }
      }
      c.wait(wake_.fd(), std::chrono::milliseconds(closing ? 10 : 1000));
    }
  } catch (const AmqpError&) {
    // Order matters to callers (the outbox relay): everything not confirmed fails together, so nothing
    // queued behind a lost message goes out before the caller retried it; and a request of the same
    // sequence that arrives after this point carries the old epoch, so publish() refuses it. (Every
    // request queued before the increment is failed below, so none with an old epoch is ever written.)
    {
      std::lock_guard lock(mu_);  // publish() compares under mu_: no request slips between the two
      ++epoch_;
    }
    for (auto& [tag, r] : pending) complete(r, metrics_, "connection lost before the broker confirmed");
    for (auto& r : batch) complete(r, metrics_, "connection lost before the message was sent");
    fail_expired(true, "connection lost before the message was sent");
    throw;
  }
}

}  // namespace comms::bus::rabbitmq
