#include "bus/outbox_relay.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <vector>

#include "common/async.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "store/await.h"

namespace comms::bus {

namespace asio = boost::asio;
using Strand = asio::strand<asio::io_context::executor_type>;

// Rounds a row may be handed to a local consumer that asks for a retry (or throws) before the
// relay gives up on it.
constexpr int kMaxLocalAttempts = 10;

// Runs f(i) for every i of `indices`, each in a coroutine of its own on `strand`, and waits for all of
// them. They start in the order of `indices` (co_spawn on a strand runs them in posting order), and each
// runs until its first suspension before the next starts. f must not throw.
template <class F>
asio::awaitable<void> run_all(Strand& strand, const std::vector<std::size_t>& indices, F f) {
  if (indices.empty()) co_return;
  co_await await_callback([&](Callback all_done) {
    auto remaining = std::make_shared<std::size_t>(indices.size());
    for (const std::size_t i : indices) {
      asio::co_spawn(
          strand,
          [f, i, remaining, all_done]() -> asio::awaitable<void> {
            co_await f(i);
            if (--*remaining == 0) all_done(nullptr);
          },
          asio::detached);
    }
  });
}

struct OutboxRelay::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, store::Store& s, MessageBus& b, metrics::Registry& r, OutboxOptions o)
      : strand(asio::make_strand(io)),
        timer(strand),
        store(s),
        bus(b),
        options(o),
        pending(r.gauge("comms_outbox_pending",
                        "Unpublished outbox rows seen by the last relay round (at most "
                        "COMMS_OUTBOX_BATCH)")
                    .unlabelled()),
        oldest(r.gauge("comms_outbox_oldest_pending_seconds", "Age of the oldest unpublished outbox row")
                   .unlabelled()),
        published(
            r.counter("comms_outbox_published_total", "Outbox rows published and confirmed").unlabelled()),
        failures(
            r.counter("comms_outbox_publish_failures_total", "Outbox publishes that failed").unlabelled()) {}

  asio::awaitable<void> loop();
  asio::awaitable<bool> round();          // true: a full batch went out, run again at once
  asio::awaitable<bool> hold_lease();     // false: another instance's relay holds it
  asio::awaitable<void> release_lease();  // on a graceful stop: the next relay need not wait it out
  asio::awaitable<void> sleep(std::chrono::milliseconds d);
  // Runs the local consumers of the confirmed rows (errors[i] empty), all at once; a row whose
  // consumer did not finish gets its reason in `local_errors`.
  asio::awaitable<void> deliver_locally(const std::vector<store::OutboxMessage>& rows,
                                        const std::vector<std::optional<std::string>>& errors,
                                        std::vector<std::optional<std::string>>& local_errors);

  Strand strand;
  asio::steady_timer timer;  // used on the strand only
  store::Store& store;
  MessageBus& bus;
  const OutboxOptions options;
  metrics::Gauge& pending;
  metrics::Gauge& oldest;
  metrics::Counter& published;
  metrics::Counter& failures;
  std::map<std::string, Consumer, std::less<>> local;  // set before start()
  bool woken = false;     // strand only
  bool stopping = false;  // strand only
  bool running = false;   // strand only
  int failed_rounds = 0;  // strand only
  // The relay lease (store.h OutboxRepository::acquire_relay_lease): this relay's identity, and
  // until when it surely holds the lease (renewed when half of it is left). Strand only.
  const std::string holder = new_uuid();
  Millis lease_until = 0;
  Millis lease_retry_at = 0;         // while another holds it: not before this (wake() is frequent)
  std::optional<bool> lease_logged;  // the state last logged
};

OutboxRelay::OutboxRelay(asio::io_context& io, store::Store& store, MessageBus& bus,
                         metrics::Registry& registry, OutboxOptions options)
    : impl_(std::make_shared<Impl>(io, store, bus, registry, options)) {}

OutboxRelay::~OutboxRelay() {
  asio::post(impl_->strand, [impl = impl_] {
    impl->stopping = true;
    impl->timer.cancel();
  });
}

void OutboxRelay::deliver_locally(std::string message_type, Consumer consumer) {
  impl_->local[std::move(message_type)] = std::move(consumer);
}

void OutboxRelay::start() {
  asio::post(impl_->strand, [impl = impl_] {
    if (impl->running) return;
    impl->running = true;
    impl->stopping = false;
    asio::co_spawn(impl->strand, impl->loop(), asio::detached);
  });
}

void OutboxRelay::wake() {
  asio::post(impl_->strand, [impl = impl_] {
    impl->woken = true;
    impl->timer.cancel();
  });
}

asio::awaitable<void> OutboxRelay::stop(std::chrono::milliseconds timeout) {
  auto impl = impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::post(impl->strand, [impl] {
    impl->stopping = true;
    impl->timer.cancel();
  });
  asio::steady_timer wait(co_await asio::this_coro::executor);
  for (;;) {
    bool running = true;
    co_await await_callback([&](Callback done) {
      asio::post(impl->strand, [impl, &running, done] {
        running = impl->running;
        done(nullptr);
      });
    });
    if (!running || std::chrono::steady_clock::now() >= deadline) break;
    wait.expires_after(std::chrono::milliseconds(5));
    co_await wait.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<void> OutboxRelay::Impl::sleep(std::chrono::milliseconds d) {
  if (woken || stopping) co_return;
  timer.expires_after(d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> OutboxRelay::Impl::loop() {
  auto self = shared_from_this();
  log::info("outbox_relay_started", {{"bus", bus.name()}, {"batch", std::to_string(options.batch)}});
  while (!stopping) {
    woken = false;
    bool more = false;
    try {
      more = co_await round();
    } catch (const std::exception& e) {
      ++failed_rounds;
      log::warn("outbox_round_failed", {{"error", e.what()}});
    }
    if (stopping) break;
    if (failed_rounds > 0) {
      const auto delay =
          std::min(options.retry_max, options.retry_base * (1 << std::min(failed_rounds - 1, 16)));
      woken = false;  // a wake-up does not cut a backoff short
      co_await sleep(delay);
    } else if (!more) {
      co_await sleep(options.poll);
    }
  }
  co_await release_lease();
  running = false;
  log::info("outbox_relay_stopped");
}

asio::awaitable<bool> OutboxRelay::Impl::hold_lease() {
  // SQLite serves one process per database file: one relay, nothing to coordinate.
  if (store.backend() == "sqlite") co_return true;
  const Millis ttl = std::max<Millis>(10'000, 5 * options.poll.count());
  const Millis now = now_ms();
  if (now < lease_until - ttl / 2) co_return true;
  if (lease_until == 0 && now < lease_retry_at) co_return false;
  bool held = false;
  co_await store::write_async(store, [&](store::UnitOfWork& uow) {
    held = uow.outbox().acquire_relay_lease(holder, now, now + ttl);
  });
  lease_until = held ? now + ttl : 0;
  lease_retry_at = held ? 0 : now + options.poll.count();
  if (lease_logged != held) {
    log::info(held ? "outbox_relay_lease_acquired" : "outbox_relay_lease_elsewhere", {{"holder", holder}});
    lease_logged = held;
  }
  co_return held;
}

asio::awaitable<void> OutboxRelay::Impl::release_lease() {
  if (lease_until == 0) co_return;
  lease_until = 0;
  try {
    // Expiring it now (only if it is still ours) lets another instance's relay take over at its
    // next poll instead of after the whole time to live: a rolling restart does not stall events.
    co_await store::write_async(
        store, [&](store::UnitOfWork& uow) { uow.outbox().acquire_relay_lease(holder, now_ms(), 0); });
    log::info("outbox_relay_lease_released", {{"holder", holder}});
  } catch (const std::exception& e) {
    log::warn("outbox_relay_lease_release_failed", {{"error", e.what()}});  // it expires on its own
  }
}

asio::awaitable<bool> OutboxRelay::Impl::round() {
  // Several instances on one database: only the lease holder publishes, so rows go out once and in
  // seq order; the others poll and take over within one lease (ttl) when the holder dies.
  if (!co_await hold_lease()) co_return false;
  std::vector<store::OutboxMessage> rows;
  co_await store::read_async(store,
                             [&](store::UnitOfWork& uow) { rows = uow.outbox().pending(options.batch); });
  pending.set(static_cast<double>(rows.size()));
  oldest.set(rows.empty()
                 ? 0.0
                 : static_cast<double>(std::max<Millis>(0, now_ms() - rows.front().created_at)) / 1000);
  if (rows.empty()) {
    failed_rounds = 0;
    co_return false;
  }

  // All publishes start in seq order (co_spawn on the strand runs them in posting order, and each hands its
  // message to the bus before its first suspension); the round waits for all of them.
  std::vector<std::optional<std::string>> errors(rows.size());
  // One sequence: if the connection is lost part-way, the rest fails too instead of overtaking the
  // rows that failed with it (PublishOptions::epoch).
  const std::uint64_t epoch = bus.publish_epoch();
  std::vector<std::size_t> all(rows.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  co_await run_all(strand, all, [this, &rows, &errors, epoch](std::size_t i) -> asio::awaitable<void> {
    const store::OutboxMessage& m = rows[i];
    try {
      // A named argument: GCC 12 destroys a braced temporary in a co_await expression twice.
      PublishOptions options{m.id, m.correlation_id, "", epoch};
      co_await bus.publish(m.message_type, m.payload, std::move(options));
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  });

  // A local consumer that did not finish keeps its row unpublished for the next round, up to
  // kMaxLocalAttempts; then the row counts as published (the bus has it) and the failure is logged,
  // so one row that always fails cannot hold the relay back. It does not back the relay off either:
  // the bus is fine.
  std::vector<std::optional<std::string>> local_errors(rows.size());
  if (!local.empty()) co_await deliver_locally(rows, errors, local_errors);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!local_errors[i]) continue;
    if (rows[i].attempts + 1 < kMaxLocalAttempts) continue;
    log::error("outbox_local_consumer_gave_up", {{"seq", std::to_string(rows[i].seq)},
                                                 {"type", rows[i].message_type},
                                                 {"attempts", std::to_string(rows[i].attempts + 1)},
                                                 {"error", *local_errors[i]}});
    local_errors[i].reset();
  }

  int ok = 0, bad = 0;
  const Millis at = now_ms();
  co_await store::write_async(store, [&](store::UnitOfWork& uow) {
    std::vector<std::int64_t> confirmed;
    confirmed.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (errors[i])
        uow.outbox().mark_failed(rows[i].seq, *errors[i]);
      else if (local_errors[i])
        uow.outbox().mark_failed(rows[i].seq, *local_errors[i]);
      else
        confirmed.push_back(rows[i].seq);
    }
    uow.outbox().mark_published(confirmed, at);
  });
  for (const auto& e : errors) (e ? bad : ok)++;
  published.inc(ok);
  if (bad > 0) {
    failures.inc(bad);
    const auto first =
        std::find_if(errors.begin(), errors.end(), [](const auto& e) { return e.has_value(); });
    const auto& row = rows[static_cast<std::size_t>(first - errors.begin())];
    log::warn("outbox_publish_failed", {{"seq", std::to_string(row.seq)},
                                        {"type", row.message_type},
                                        {"attempts", std::to_string(row.attempts + 1)},
                                        {"failed", std::to_string(bad)},
                                        {"error", **first}});
    ++failed_rounds;
    co_return false;
  }
  failed_rounds = 0;
  co_return static_cast<int>(rows.size()) >= options.batch;
}

asio::awaitable<void> OutboxRelay::Impl::deliver_locally(const std::vector<store::OutboxMessage>& rows,
                                                         const std::vector<std::optional<std::string>>& errors,
                                                         std::vector<std::optional<std::string>>& local_errors) {
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (!errors[i] && local.contains(rows[i].message_type)) todo.push_back(i);
  // Concurrently, as a queue with prefetch would run them: a saga's steps for one correlation id
  // are serialised by its version check and inbox, not by this order.
  co_await run_all(strand, todo, [this, &rows, &local_errors](std::size_t i) -> asio::awaitable<void> {
    const store::OutboxMessage& m = rows[i];
    Envelope e;
    e.message_id = m.id;  // what the bus carried: the consumer's inbox key
    e.correlation_id = m.correlation_id;
    e.conversation_id = m.id;
    e.message = m.payload;
    e.sent_time = format_iso8601(now_ms());
    try {
      const HandleResult r = co_await local.find(m.message_type)->second(e);
      if (r.outcome == Outcome::retry) local_errors[i] = "local consumer: " + r.reason;
      if (r.outcome == Outcome::fault)  // cannot succeed: retrying would only repeat it
        log::warn("outbox_local_fault",
                  {{"seq", std::to_string(m.seq)}, {"type", m.message_type}, {"reason", r.reason}});
    } catch (const std::exception& ex) {
      local_errors[i] = std::string("local consumer: ") + ex.what();
    }
  });
}

}  // namespace comms::bus
