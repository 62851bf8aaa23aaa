#include "intake/intake.h"

#include "commands/rejected.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/await.h"

namespace comms::intake {
namespace {

using boost::asio::awaitable;

// ClientCreated / UserRegistered / ClientContactUpdated: sets the contact
// fields the event carries. An event older than the entry's last change (a
// late redelivery) changes nothing.
bool apply_directory(store::UnitOfWork& uow, const Event& e, Millis now) {
  const EventSpec& spec = *e.spec;
  if (spec.directory == DirectoryEffect::none) return false;
  const std::string id = e.text(spec.customer_field);
  const Millis at = e.timestamp ? e.timestamp : now;
  auto existing = uow.recipients().get(id);
  if (existing && existing->updated_at > at) {
    log::info("directory_update_stale", {{"recipient_id", id}, {"event_id", e.id}});
    return false;
  }
  domain::Recipient r = existing.value_or(domain::Recipient{});
  r.id = id;
  std::string name = e.text(spec.name_field);
  if (!spec.first_name_field.empty())
    name = e.text(spec.first_name_field) + " " + e.text(spec.last_name_field);
  if (!name.empty()) r.name = name;
  if (auto v = e.text(spec.phone_field); !v.empty()) r.phone = v;
  if (auto v = e.text(spec.email_field); !v.empty()) r.email = v;
  if (auto v = e.text(spec.language_field); !v.empty()) r.language = v;
  if (auto v = e.text(spec.branch_field); !v.empty()) r.branch_id = v;
  r.updated_at = at;
  r.version = 0;
  uow.recipients().upsert(r);
  return true;
}

bus::Consumer guarded(std::function<awaitable<void>(const bus::Envelope&)> f) {
  return [f = std::move(f)](const bus::Envelope& env) -> awaitable<bus::HandleResult> {
    std::string reason;
    bus::Outcome outcome = bus::Outcome::done;
    try {
      co_await f(env);
    } catch (const commands::Rejected& r) {
      outcome = bus::Outcome::fault;
      reason = r.what();
    } catch (const std::exception& e) {
      outcome = bus::Outcome::retry;
      reason = e.what();
    }
    if (outcome != bus::Outcome::done)
      log::warn("intake_event_not_done", {{"message_id", env.message_id},
                                          {"outcome", outcome == bus::Outcome::fault ? "fault" : "retry"},
                                          {"reason", reason}});
    co_return bus::HandleResult{outcome, reason};
  };
}

// Throws commands::Rejected (unknown_event_type) for a type outside the catalogue.
const EventSpec& spec_of(const std::string& type) {
  if (const EventSpec* spec = find_event(type)) return *spec;
  std::string known;
  for (const auto& e : catalogue()) known += (known.empty() ? "" : ", ") + std::string(e.type);
  throw commands::Rejected(commands::Rejected::Kind::invalid, "unknown_event_type",
                           "unknown event type '" + type + "' (known: " + known + ")");
}

}  // namespace

Intake::Intake(boost::asio::io_context& io, store::Store& store, cache::Cache& cache,
               delivery::RecipientDirectory& directory, Rules rules, IntakeOptions options,
               std::function<void()> wake_dispatcher)
    : store_(store),
      rules_(std::move(rules)),
      options_(std::move(options)),
      sealer_(options_.secrets_key),
      preferences_(store, cache, directory, options_.cache_ttl),
      planner_(sealer_, zones_),
      engine_(io, store, rules_, planner_, preferences_,
              WorkflowOptions{workflows::MachineOptions{options_.escalation_after}, options_.poll},
              wake_dispatcher),
      vault_(std::make_shared<SecretVault>()),
      wake_dispatcher_(std::move(wake_dispatcher)) {
  if (sealer_.ephemeral())
    log::warn(
        "secrets_key_ephemeral",
        {{"effect", "OTP codes pending at a restart cannot be sent; set COMMS_SECRETS_KEY to keep them"}});
}

Intake::~Intake() = default;

void Intake::record(store::UnitOfWork& uow, const Event& ev, const Profiles& profiles, Millis now,
                    IntakeResult& result) const {
  result = IntakeResult{};
  if (!uow.processed_events().add(ev.id, std::string(ev.spec->type), now)) {
    result.duplicate = true;
    return;
  }
  result.directory_updated = apply_directory(uow, ev, now);
  const EventRules* er = rules_.for_event(ev.spec->type);
  if (!er) return;
  if (er->workflow.empty()) {
    planner_.execute(uow, planner_.plan(ev, er->for_step(""), profiles, now), now, result.executed);
    return;
  }
  result.workflow = er->workflow;
  const auto started =
      engine_.start(uow, *workflows::find_machine(er->workflow), *er, ev, profiles, now, result.executed);
  result.workflow_state = started.state;
  result.workflow_wake_at = started.wake_at;
}

awaitable<IntakeResult> Intake::handle(std::string type, const bus::Envelope& envelope) {
  const Event ev =
      parse_event(spec_of(type), envelope.message, envelope.message_id, envelope.correlation_id, sealer_);
  Profiles profiles;
  if (const EventRules* er = rules_.for_event(type))
    profiles = co_await preferences_.profiles(planner_.recipients(ev, *er));
  IntakeResult result;
  const Millis now = now_ms();
  co_await store::write_async(store_,
                              [&](store::UnitOfWork& uow) { record(uow, ev, profiles, now, result); });
  if (result.directory_updated)
    co_await preferences_.directory().invalidate(ev.text(ev.spec->customer_field));
  result.event_id = ev.id;
  result.event_type = type;
  result.correlation_id = ev.correlation_id;
  if (!result.executed.created.empty() && wake_dispatcher_) wake_dispatcher_();
  if (result.workflow_wake_at != 0) engine_.wake();
  log::info("event_consumed", {{"event_id", ev.id},
                               {"type", type},
                               {"duplicate", result.duplicate ? "true" : "false"},
                               {"created", std::to_string(result.executed.created.size())},
                               {"skipped", std::to_string(result.executed.skipped.size())}});
  co_return result;
}

void Intake::subscribe(bus::MessageBus& bus) {
  for (const auto& spec : catalogue()) {
    const std::string type(spec.type);
    bus.subscribe(type, guarded([this, type](const bus::Envelope& env) -> awaitable<void> {
                    co_await handle(type, env);
                  }));
  }
}

void Intake::react_to_own_events(bus::OutboxRelay& relay) {
  using K = workflows::Trigger::Kind;
  for (auto kind : {K::notification_sent, K::notification_failed}) {
    relay.deliver_locally(std::string(workflows::to_string(kind)), [this, kind](const bus::Envelope& env) {
      return engine_.on_notification_event(kind, env);
    });
  }
}

void Intake::start() {
  engine_.start_scheduler();
}

awaitable<void> Intake::stop(std::chrono::milliseconds timeout) {
  co_await engine_.stop(timeout);
}

std::unique_ptr<delivery::Renderer> Intake::secret_renderer(delivery::Renderer& inner) {
  return std::make_unique<SealedRenderer>(inner, sealer_, rules_, vault_);
}

void Intake::reveal_secrets(delivery::Channels& channels) {
  reveal_secrets_on_send(channels, vault_);
}

}  // namespace comms::intake
