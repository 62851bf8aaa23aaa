#include "delivery/dispatcher.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "common/clock.h"
#include "common/log.h"
#include "delivery/outcome.h"
#include "store/await.h"

namespace comms::delivery {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max) {
  const int shift = std::clamp(attempt - 1, 0, 30);
  const long double raw = static_cast<long double>(base.count()) * static_cast<long double>(1LL << shift);
  const long long capped = static_cast<long long>(std::min<long double>(raw, max.count()));
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const long long half = capped / 2;
  std::uniform_int_distribution<long long> jitter(0, capped - half);
  return std::chrono::milliseconds(half + jitter(rng));
}

struct Dispatcher::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, store::Store& s, Channels ch, Renderer& r, RecipientDirectory& d,
       DispatcherOptions o, OutcomeHook h)
      : io(io), strand(asio::make_strand(io)), timer(strand), store(s), channels(std::move(ch)), renderer(r),
        directory(d), options(o), hook(std::move(h)) {}

  asio::io_context& io;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;  // owned by strand
  store::Store& store;
  Channels channels;
  Renderer& renderer;
  RecipientDirectory& directory;
  DispatcherOptions options;
  OutcomeHook hook;
  bool woken = false;  // owned by strand
  std::atomic<bool> stopping{false};
  std::atomic<bool> loop_done{false};
  std::atomic<std::int64_t> in_flight{0};

  template <class F>
  awaitable<void> write(F&& work) {
    co_await store::write_async(store, std::forward<F>(work));
  }

  // Waits on the strand until woken or `delay` passes.
  awaitable<void> idle(std::chrono::milliseconds delay) {
    if (woken || stopping) {
      woken = false;
      co_return;
    }
    timer.expires_after(delay);
    co_await timer.async_wait(asio::as_tuple(use_awaitable));
    woken = false;
  }

  awaitable<void> loop() {
    auto self = shared_from_this();
    while (!stopping) {
      const auto free = options.concurrency - in_flight.load();
      if (free <= 0) {
        co_await idle(options.poll);
        continue;
      }
      const int want = static_cast<int>(std::min<std::int64_t>(free, options.batch));
      std::vector<domain::Notification> claimed;
      std::optional<domain::Millis> next_due;
      bool claim_failed = false;
      try {
        const auto now = now_ms();
        co_await write([&](store::UnitOfWork& uow) {
          claimed = uow.notifications().claim_due(now, want, options.lease.count());
          if (static_cast<int>(claimed.size()) < want) next_due = uow.notifications().next_due_at();
        });
      } catch (const std::exception& e) {
        log::error("dispatcher_claim_failed", {{"error", e.what()}});
        claim_failed = true;
      }
      if (claim_failed) {
        co_await idle(options.poll);
        continue;
      }
      for (auto& n : claimed) {
        in_flight.fetch_add(1);
        asio::co_spawn(io, process(std::move(n)), asio::detached);
      }
      if (static_cast<int>(claimed.size()) < want) {
        auto delay = options.poll;
        if (next_due) {
          const auto until = std::chrono::milliseconds(std::max<domain::Millis>(*next_due - now_ms(), 1));
          delay = std::min(delay, until);
        }
        co_await idle(delay);
      }
    }
    loop_done = true;
  }

  awaitable<void> process(domain::Notification n) {
    auto self = shared_from_this();
    try {
      co_await process_one(n);
    } catch (const std::exception& e) {
      // The claim's lease brings it back; nothing is lost.
      log::error("dispatcher_process_failed", {{"id", n.id}, {"error", e.what()}});
    }
    if (in_flight.fetch_sub(1) == options.concurrency) wake();
  }

  awaitable<void> process_one(domain::Notification& n) {
    std::optional<domain::Recipient> recipient;
    // The directory is needed to find an address, or for a template's locale and time zone.
    if (!n.recipient_id.empty() && (n.to.empty() || !n.template_name.empty())) {
      recipient = co_await directory.get(n.recipient_id);
    }
    n.attempts += 1;
    SendResult result;
    RenderOutcome rendered = co_await renderer.render(n, recipient ? &*recipient : nullptr);
    if (!rendered.ok) {
      result = SendResult::failure(SendResult::Kind::permanent, "", rendered.error);
    } else {
      n.subject = rendered.message.subject;
      n.content = rendered.message.text;  // for email: the text part; the HTML part is not stored
      auto it = channels.find(n.channel);
      if (it == channels.end()) {
        result = SendResult::failure(SendResult::Kind::permanent, "",
                                     "no provider configured for channel " + std::string(to_string(n.channel)));
      } else {
        result = co_await it->second->send(rendered.message);
      }
    }
    const RetryPolicy policy{options.max_attempts, options.retry_base, options.retry_max};
    auto events = apply_outcome(n, result, now_ms(), policy);
    try {
      co_await write([&](store::UnitOfWork& uow) {
        uow.notifications().update(n);
        for (auto& e : events) uow.outbox().add(e);
        if (result.commit_with_outcome) result.commit_with_outcome(uow);
      });
    } catch (const store::ConflictError&) {
      log::warn("dispatcher_outcome_conflict", {{"id", n.id}});
      co_return;
    }
    log::debug("notification_attempted", {{"id", n.id},
                                          {"channel", to_string(n.channel)},
                                          {"status", to_string(n.status)},
                                          {"provider", n.provider}});
    if (hook) hook(n, result);
    if (n.status == domain::Status::pending) wake();
  }

  void wake() {
    asio::post(strand, [self = shared_from_this()] {
      self->woken = true;
      self->timer.cancel();
    });
  }
};

Dispatcher::Dispatcher(asio::io_context& io, store::Store& store, Channels channels, Renderer& renderer,
                       RecipientDirectory& directory, DispatcherOptions options, OutcomeHook hook)
    : impl_(std::make_shared<Impl>(io, store, std::move(channels), renderer, directory, options,
                                   std::move(hook))) {}

Dispatcher::~Dispatcher() = default;

void Dispatcher::start() {
  asio::co_spawn(impl_->strand, [impl = impl_]() { return impl->loop(); }, asio::detached);
}

void Dispatcher::wake() { impl_->wake(); }

std::int64_t Dispatcher::in_flight() const { return impl_->in_flight.load(); }

awaitable<void> Dispatcher::stop(std::chrono::milliseconds timeout) {
  auto impl = impl_;
  asio::post(impl->strand, [impl] {
    impl->stopping = true;
    impl->timer.cancel();
  });
  asio::steady_timer wait(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while ((impl->in_flight.load() > 0 || !impl->loop_done) && std::chrono::steady_clock::now() < deadline) {
    wait.expires_after(std::chrono::milliseconds(10));
    co_await wait.async_wait(asio::as_tuple(use_awaitable));
  }
  if (impl->in_flight.load() > 0)
    log::warn("dispatcher_stop_timeout", {{"in_flight", std::to_string(impl->in_flight.load())}});
}

}  // namespace comms::delivery
