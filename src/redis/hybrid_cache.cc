#include "redis/hybrid_cache.h"

#include "common/log.h"

namespace comms::redis {
namespace {

using boost::asio::awaitable;
using std::chrono::milliseconds;
constexpr std::size_t kMaxUnsent = 1000;
constexpr milliseconds kReplayEvery{1000};

}  // namespace

HybridCache::HybridCache(Redis& redis, metrics::Registry& registry, cache::LruOptions l1_options)
    : redis_(redis),
      l1_ttl_(l1_options.default_ttl),
      l1_(l1_options),
      hits_(registry.counter("comms_cache_l2_hits_total", "L1 misses answered by Redis (L2)").unlabelled()),
      misses_(registry.counter("comms_cache_l2_misses_total", "L1 misses that Redis (L2) did not have").unlabelled()),
      errors_(registry
                  .counter("comms_cache_l2_errors_total",
                           "Cache calls that could not use Redis (L2) and fell back to L1 and the database")
                  .unlabelled()),
      received_(registry
                    .counter("comms_cache_invalidations_received_total",
                             "Invalidations from other instances applied to L1")
                    .unlabelled()),
      flushes_(registry
                   .counter("comms_cache_l1_flushes_total",
                            "L1 flushed because the invalidation subscriber (re)connected")
                   .unlabelled()) {
  redis_.subscriber().subscribe(channel(), [this](std::string_view, std::string_view m) { on_message(m); });
  redis_.subscriber().on_connected([this] {
    // Invalidations published while this instance was not listening are lost: start L1 afresh.
    generation_.fetch_add(1);
    const std::size_t n = l1_.remove_by_pattern("*");
    flushes_.inc();
    if (n > 0) log::info("cache_l1_flushed", {{"entries", std::to_string(n)}, {"reason", "subscriber_connected"}});
  });
  redis_.health().on_up([this] { replay(); });
}

awaitable<std::optional<std::string>> HybridCache::get(std::string key) {
  if (auto v = l1_.get(key)) co_return v;
  maybe_replay();
  const std::string k = redis_.prefix() + key;
  const auto generation = generation_.load();
  // Commands are built outside the co_await expression: GCC 12 rejects braced string literals there.
  std::vector<Command> commands{{"GET", k}, {"PTTL", k}};
  const Result r = co_await redis_.client().run("cache", std::move(commands));
  if (!r.ok() || r.replies.size() != 2 || r.replies[0].is_error()) {
    errors_.inc();
    co_return std::nullopt;
  }
  if (r.replies[0].is_nil()) {
    misses_.inc();
    co_return std::nullopt;
  }
  hits_.inc();
  milliseconds ttl = l1_ttl_;
  if (r.replies[1].integer > 0) ttl = std::min(ttl, milliseconds(r.replies[1].integer));
  // An invalidation that arrived while L2 answered may concern this value: then L1 is not filled.
  if (generation_.load() == generation) l1_.set(key, r.replies[0].str, ttl);
  co_return r.replies[0].str;
}

awaitable<void> HybridCache::set(std::string key, std::string value, milliseconds ttl) {
  if (ttl <= milliseconds::zero()) ttl = l1_ttl_;
  l1_.set(key, value, ttl);
  maybe_replay();
  std::vector<Command> commands{{"SET", redis_.prefix() + key, std::move(value), "PX", std::to_string(ttl.count())}};
  const Result r = co_await redis_.client().run("cache", std::move(commands));
  if (!r.ok() || r.replies.empty() || r.replies[0].is_error()) errors_.inc();
}

awaitable<void> HybridCache::remove(std::string key) {
  l1_.remove(key);
  Change change{false, std::move(key)};
  co_await invalidate(std::move(change));
}

awaitable<void> HybridCache::remove_by_pattern(std::string pattern) {
  l1_.remove_by_pattern(pattern);
  Change change{true, std::move(pattern)};
  co_await invalidate(std::move(change));
}

awaitable<void> HybridCache::invalidate(Change change) {
  generation_.fetch_add(1);
  maybe_replay();
  Client::Work work = l2_work(change);
  const Result r = co_await redis_.client().run("cache", std::move(work));
  if (!r.ok()) {
    errors_.inc();
    remember(std::move(change));
  }
}

// Built outside the coroutine: GCC 12 destroyed a coroutine parameter captured by copy twice (a
// double free in the worker), and a lambda made in a plain function avoids it.
Client::Work HybridCache::l2_work(Change change) const {
  return [this, change = std::move(change)](Connection& conn) { return apply_l2(conn, change); };
}

Result HybridCache::apply_l2(Connection& conn, const Change& change) const {
  const std::string message = redis_.instance_id() + (change.pattern ? " p " : " k ") + change.text;
  if (!change.pattern) return conn.run({{"UNLINK", redis_.prefix() + change.text}, {"PUBLISH", channel(), message}});
  const std::string match = scan_pattern(redis_.prefix(), change.text);
  std::string cursor = "0";
  do {
    Result r = conn.run({{"SCAN", cursor, "MATCH", match, "COUNT", "500"}});
    if (!r.ok()) return r;
    const Reply& page = r.replies.at(0);
    if (page.type != Reply::Type::array || page.elements.size() != 2) return r;  // an error reply: Redis is up
    cursor = page.elements[0].str;
    if (!page.elements[1].elements.empty()) {
      Command unlink{"UNLINK"};
      for (const Reply& k : page.elements[1].elements) unlink.push_back(k.str);
      if (Result u = conn.run({unlink}); !u.ok()) return u;
    }
  } while (cursor != "0");
  return conn.run({{"PUBLISH", channel(), message}});
}

void HybridCache::remember(Change change) {
  std::lock_guard lock(mu_);
  const Change all{true, "*"};
  if (unsent_.contains(all)) return;
  if (unsent_.size() >= kMaxUnsent) {
    unsent_.clear();
    change = all;
  }
  unsent_.insert(std::move(change));
  has_unsent_.store(true);
}

void HybridCache::maybe_replay() {
  if (!has_unsent_.load() || !redis_.health().up()) return;
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  auto next = next_replay_.load();
  if (now < next) return;
  if (!next_replay_.compare_exchange_strong(next, now + std::chrono::steady_clock::duration(kReplayEvery).count()))
    return;
  replay();
}

void HybridCache::replay() {
  std::set<Change> todo;
  {
    std::lock_guard lock(mu_);
    todo.swap(unsent_);
    has_unsent_.store(false);
  }
  if (!todo.empty()) log::info("cache_invalidations_replayed", {{"count", std::to_string(todo.size())}});
  for (const Change& change : todo) {
    redis_.client().submit(
        "cache", l2_work(change),
        [this, change](Result r) {
          if (!r.ok()) remember(change);
        });
  }
}

void HybridCache::on_message(std::string_view message) {
  // "<origin instance id> k|p <key or pattern>"
  const auto a = message.find(' ');
  if (a == std::string_view::npos || message.size() < a + 3 || message[a + 2] != ' ') return;
  if (message.substr(0, a) == redis_.instance_id()) return;
  const char kind = message[a + 1];
  const std::string text(message.substr(a + 3));
  generation_.fetch_add(1);
  if (kind == 'k') {
    l1_.remove(text);
  } else if (kind == 'p') {
    l1_.remove_by_pattern(text);
  } else {
    return;
  }
  received_.inc();
}

}  // namespace comms::redis
