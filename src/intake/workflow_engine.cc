#include "intake/workflow_engine.h"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "bus/masstransit.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/await.h"

namespace comms::intake {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using workflows::Decision;
using workflows::StateMachine;
using workflows::Trigger;

json::object parse_object(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return !ec && v.is_object() ? std::move(v.get_object()) : json::object{};
}

// The string member `key` of a MassTransit payload (case-insensitive), or "".
std::string field_ci(const json::object& o, std::string_view key) {
  const json::string* s = bus::find_string_ci(o, key);
  return s ? std::string(*s) : std::string();
}

std::map<std::string, std::vector<std::string>> steps_of(const store::WorkflowInstance& w) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& kv : parse_object(w.steps)) {
    auto& ids = out[std::string(kv.key())];
    if (kv.value().is_array())
      for (const auto& id : kv.value().get_array())
        if (id.is_string()) ids.emplace_back(id.get_string());
  }
  return out;
}

std::string step_of(const store::WorkflowInstance& w, const std::string& notification_id) {
  for (const auto& [step, ids] : steps_of(w))
    for (const auto& id : ids)
      if (id == notification_id) return step;
  return {};
}

std::string steps_json(const std::map<std::string, std::vector<std::string>>& steps) {
  json::object o;
  for (const auto& [s, ids] : steps) {
    json::array a;
    for (const auto& id : ids) a.emplace_back(id);
    o[s] = std::move(a);
  }
  return json::serialize(o);
}

// The transition was decided on `loaded`; if the row moved on since, it is a conflict.
void check_version(const store::WorkflowInstance& current, const store::WorkflowInstance& loaded) {
  if (current.version != loaded.version)
    throw store::ConflictError("workflow " + current.correlation_id + " changed since it was read");
}

workflows::InstanceView view(store::UnitOfWork& uow, const store::WorkflowInstance& w) {
  workflows::InstanceView v;
  v.state = w.current_state;
  for (const auto& kv : parse_object(w.flags))
    if (kv.value().is_bool()) v.flags[std::string(kv.key())] = kv.value().get_bool();
  for (const auto& [step, ids] : steps_of(w)) {
    auto& rows = v.steps[step];
    for (const auto& id : ids)
      if (auto n = uow.notifications().get(id)) rows.push_back(std::move(*n));
  }
  return v;
}

Event event_of(const store::WorkflowInstance& w) {
  Event e;
  e.spec = find_event(w.event_type);
  e.id = w.event_id;
  e.correlation_id = w.correlation_id;
  e.fields = parse_object(w.event_payload);
  return e;
}

}  // namespace

struct WorkflowEngine::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, store::Store& s, const Rules& r, const Planner& p, PreferenceService& pr,
       WorkflowOptions o, std::function<void()> wd)
      : io(io),
        strand(asio::make_strand(io)),
        timer(strand),
        store(s),
        rules(r),
        planner(p),
        profiles(pr),
        options(o),
        wake_dispatcher(std::move(wd)) {}

  asio::io_context& io;
  asio::strand<asio::io_context::executor_type> strand;
  asio::steady_timer timer;  // owned by strand
  store::Store& store;
  const Rules& rules;
  const Planner& planner;
  PreferenceService& profiles;
  WorkflowOptions options;
  std::function<void()> wake_dispatcher;
  bool woken = false;  // owned by strand
  std::atomic<bool> stopping{false};
  std::atomic<bool> loop_done{true};
  std::atomic<std::int64_t> conflicts{0};

  template <class F>
  awaitable<void> write(F&& work) {
    co_await store::write_async(store, std::forward<F>(work));
  }
  template <class F>
  awaitable<void> read(F&& work) {
    co_await store::read_async(store, std::forward<F>(work));
  }

  // Applies `d` (and the step_skipped decisions it leads to) to `w`, creating
  // notifications and history in `uow`; inserts or updates `w`.
  void apply(store::UnitOfWork& uow, const StateMachine& m, const EventRules& er, const Event& e,
             store::WorkflowInstance& w, Decision d, std::string cause, const Profiles& profs, Millis now,
             Executed& out, bool insert) const {
    auto steps = steps_of(w);
    json::object flags = parse_object(w.flags);
    // Step-skipped decisions can chain; the built-in machines chain at most once.
    constexpr int kMaxChained = 8;
    for (int round = 0; round < kMaxChained && d.handled; ++round) {
      const std::string from = w.current_state;
      json::array created_ids;
      Millis due = now;
      std::string empty_step;
      for (const auto& step : d.send_steps) {
        const auto step_rules = er.for_step(step);
        Executed ex;
        planner.execute(uow, planner.plan(e, step_rules, profs, now, step), now, ex);
        for (const auto& n : ex.created) {
          steps[step].push_back(n.id);
          created_ids.emplace_back(n.id);
          due = std::max(due, n.next_attempt_at);
        }
        if (ex.created.empty()) empty_step = step;
        out.created.insert(out.created.end(), ex.created.begin(), ex.created.end());
        out.skipped.insert(out.skipped.end(), ex.skipped.begin(), ex.skipped.end());
      }
      for (const auto& [k, v] : d.set_flags) flags[k] = v;
      w.current_state = d.next_state;
      w.wake_at = d.wake_after ? due + d.wake_after->count() : 0;
      if (d.complete) w.completed_at = now;
      w.updated_at = now;

      json::object detail;
      detail["note"] = d.note;
      detail["notificationIds"] = std::move(created_ids);
      if (w.wake_at) detail["wakeAt"] = format_iso8601(w.wake_at);
      store::WorkflowHistoryEntry h;
      h.correlation_id = w.correlation_id;
      h.at = now;
      h.from_state = from;
      h.to_state = w.current_state;
      h.cause = cause;
      h.detail = json::serialize(detail);
      uow.workflows().add_history(h);

      if (empty_step.empty() || d.complete) break;
      // A step produced nothing: the machine decides what that means, now.
      w.steps = steps_json(steps);
      w.flags = json::serialize(flags);
      d = m.on(view(uow, w), Trigger{Trigger::Kind::step_skipped, "", empty_step}, options.machine);
      cause = std::string(workflows::to_string(Trigger::Kind::step_skipped));
    }
    w.steps = steps_json(steps);
    w.flags = json::serialize(flags);
    if (insert)
      uow.workflows().insert(w);
    else
      uow.workflows().update(w);
  }

  struct Loaded {
    store::WorkflowInstance instance;
    const StateMachine* machine = nullptr;
    const EventRules* rules = nullptr;
    Event event;
    Profiles profiles;
  };

  // Reads the running instance and everything its next transition may need
  // (outside the write, so that preferences come through the cache).
  awaitable<std::optional<Loaded>> load(const std::string& correlation_id) {
    std::optional<store::WorkflowInstance> w;
    co_await read([&](store::UnitOfWork& uow) { w = uow.workflows().get(correlation_id); });
    if (!w || w->completed_at != 0) co_return std::nullopt;
    Loaded l;
    l.machine = workflows::find_machine(w->workflow);
    l.rules = rules.for_event(w->event_type);
    l.event = event_of(*w);
    if (!l.machine || !l.rules || !l.event.spec) {
      log::warn("workflow_unrunnable",
                {{"correlation_id", correlation_id},
                 {"workflow", w->workflow},
                 {"reason", "its workflow or rules are gone from this configuration"}});
      co_return std::nullopt;
    }
    l.profiles = co_await profiles.profiles(planner.recipients(l.event, *l.rules));
    l.instance = std::move(*w);
    co_return l;
  }

  // Runs `transition` (one unit of work) until it commits without a version conflict.
  template <class Transition>
  awaitable<Executed> with_retries(const std::string& correlation_id, Transition transition) {
    for (int attempt = 0;; ++attempt) {
      auto loaded = co_await load(correlation_id);
      if (!loaded) co_return Executed{};
      Executed out;
      try {
        co_await write([&](store::UnitOfWork& uow) {
          out = Executed{};
          transition(uow, *loaded, out);
        });
        if (!out.created.empty() && wake_dispatcher) wake_dispatcher();
        co_return out;
      } catch (const store::ConflictError&) {
        if (attempt >= options.max_conflict_retries) throw;
        conflicts.fetch_add(1);
        log::info("workflow_conflict_retry",
                  {{"correlation_id", correlation_id}, {"attempt", std::to_string(attempt + 1)}});
      }
    }
  }

  awaitable<void> fire(std::string correlation_id) {
    const Millis now = now_ms();
    bool armed = false;
    co_await with_retries(correlation_id, [&](store::UnitOfWork& uow, Loaded& l, Executed& out) {
      armed = false;
      auto cur = uow.workflows().get(correlation_id);
      if (!cur || cur->completed_at != 0 || cur->wake_at == 0 || cur->wake_at > now) return;
      check_version(*cur, l.instance);
      Decision d = l.machine->on(view(uow, *cur), Trigger{Trigger::Kind::timeout, "", ""}, options.machine);
      if (!d.handled) {
        cur->wake_at = 0;
        cur->updated_at = now;
        uow.workflows().update(*cur);
        return;
      }
      apply(uow, *l.machine, *l.rules, l.event, *cur, std::move(d), "Timeout", l.profiles, now, out, false);
      armed = cur->wake_at != 0;
    });
    if (armed) wake();  // the scheduler may be sleeping past the new timeout
  }

  awaitable<void> idle(std::chrono::milliseconds delay) {
    if (woken || stopping) {
      woken = false;
      co_return;
    }
    timer.expires_after(delay);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    woken = false;
  }

  awaitable<void> loop() {
    auto self = shared_from_this();
    while (!stopping) {
      std::vector<store::WorkflowInstance> due;
      std::optional<Millis> next;
      try {
        const Millis now = now_ms();
        co_await read([&](store::UnitOfWork& uow) {
          due = uow.workflows().due(now, 32);
          next = uow.workflows().next_wake_at();
        });
        for (const auto& w : due) {
          if (stopping) break;
          co_await fire(w.correlation_id);
        }
      } catch (const std::exception& e) {
        log::error("workflow_timeouts_failed", {{"error", e.what()}});
        next.reset();
      }
      if (due.size() == 32) continue;
      auto delay = options.poll;
      if (next && *next > 0)
        delay = std::min(delay, std::chrono::milliseconds(std::max<Millis>(*next - now_ms(), 1)));
      co_await idle(delay);
    }
    loop_done = true;
  }

  void wake() {
    asio::post(strand, [self = shared_from_this()] {
      self->woken = true;
      self->timer.cancel();
    });
  }
};

WorkflowEngine::WorkflowEngine(asio::io_context& io, store::Store& store, const Rules& rules,
                               const Planner& planner, PreferenceService& profiles, WorkflowOptions options,
                               std::function<void()> wake_dispatcher)
    : impl_(
          std::make_shared<Impl>(io, store, rules, planner, profiles, options, std::move(wake_dispatcher))) {}

WorkflowEngine::~WorkflowEngine() = default;

WorkflowEngine::Started WorkflowEngine::start(store::UnitOfWork& uow, const StateMachine& machine,
                                              const EventRules& er, const Event& e, const Profiles& profiles,
                                              Millis now, Executed& out) const {
  if (uow.workflows().get(e.correlation_id)) return {};
  store::WorkflowInstance w;
  w.correlation_id = e.correlation_id;
  w.workflow = std::string(machine.name());
  w.current_state = "";
  w.event_id = e.id;
  w.event_type = std::string(e.spec->type);
  w.event_payload = json::serialize(e.fields);
  w.created_at = now;
  w.updated_at = now;
  impl_->apply(uow, machine, er, e, w, machine.start(impl_->options.machine), w.event_type, profiles, now,
               out, true);
  return Started{w.current_state, w.wake_at};
}

awaitable<bus::HandleResult> WorkflowEngine::on_notification_event(Trigger::Kind kind,
                                                                   const bus::Envelope& env) {
  const json::object payload = parse_object(env.message);
  const std::string notification_id = field_ci(payload, "notificationId");
  std::string correlation_id = field_ci(payload, "correlationId");
  if (correlation_id.empty()) correlation_id = env.correlation_id;
  if (notification_id.empty())
    co_return bus::HandleResult{
        bus::Outcome::fault, std::string(workflows::to_string(kind)) + ": field 'notificationId' is missing"};
  if (correlation_id.empty()) co_return bus::HandleResult{};
  const std::string inbox_id = env.message_id.empty()
                                   ? std::string(workflows::to_string(kind)) + ":" + notification_id
                                   : env.message_id;
  const Millis now = now_ms();
  auto& impl = *impl_;
  bool armed = false;
  co_await impl.with_retries(correlation_id, [&](store::UnitOfWork& uow, Impl::Loaded& l, Executed& out) {
    armed = false;
    auto cur = uow.workflows().get(correlation_id);
    if (!cur || cur->completed_at != 0) return;
    const std::string step = step_of(*cur, notification_id);
    if (step.empty()) return;  // not one of this instance's notifications
    if (!uow.processed_events().add(inbox_id, std::string(workflows::to_string(kind)), now)) return;
    check_version(*cur, l.instance);
    Decision d = l.machine->on(view(uow, *cur), Trigger{kind, notification_id, step}, impl.options.machine);
    if (!d.handled) return;
    impl.apply(uow, *l.machine, *l.rules, l.event, *cur, std::move(d),
               std::string(workflows::to_string(kind)), l.profiles, now, out, false);
    armed = cur->wake_at != 0;
  });
  if (armed) impl.wake();  // the scheduler may be sleeping past the new timeout
  co_return bus::HandleResult{};
}

awaitable<void> WorkflowEngine::fire_timeout(std::string correlation_id) {
  co_await impl_->fire(std::move(correlation_id));
}

void WorkflowEngine::start_scheduler() {
  impl_->loop_done = false;
  asio::co_spawn(
      impl_->strand, [impl = impl_]() { return impl->loop(); }, asio::detached);
}

void WorkflowEngine::wake() {
  impl_->wake();
}

awaitable<void> WorkflowEngine::stop(std::chrono::milliseconds timeout) {
  auto impl = impl_;
  asio::post(impl->strand, [impl] {
    impl->stopping = true;
    impl->timer.cancel();
  });
  asio::steady_timer wait(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl->loop_done && std::chrono::steady_clock::now() < deadline) {
    wait.expires_after(std::chrono::milliseconds(10));
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

std::int64_t WorkflowEngine::conflict_retries() const {
  return impl_->conflicts.load();
}

}  // namespace comms::intake
