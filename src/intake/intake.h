// The idempotent consumer of the event catalogue: one entry point shared by
// the message bus and POST /api/v1/events, so both go through the same
// inbox, rules and plan.
//
// handle() parses the payload (catalogue.h, payload.h), plans the rule's
// notifications against the directory and the recipients' preferences, and
// then, in ONE unit of work: records the event id in the inbox (a second
// delivery of the same id stops here and creates nothing), applies the
// event's directory effect (ClientCreated, ClientContactUpdated,
// UserRegistered), inserts the Pending notifications, and starts the event's
// workflow if its rules name one.
//
// It also owns what the rest of the service needs from intake: the
// preferences service (API), the workflow engine (NotificationSent /
// NotificationFailed consumers, timeouts) and the secret-aware delivery
// decorators (secret_delivery.h).
//
// Lifecycle: construct, subscribe(bus) before bus.start(), start() the
// timeout scheduler, and co_await stop() before the store closes.
// Thread-safety: handle() may run concurrently from many coroutines.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "bus/message_bus.h"
#include "bus/outbox_relay.h"
#include "cache/cache.h"
#include "delivery/channel.h"
#include "delivery/renderer.h"
#include "intake/planner.h"
#include "intake/preference_service.h"
#include "intake/rules.h"
#include "intake/secret_delivery.h"
#include "intake/secrets.h"
#include "intake/workflow_engine.h"

namespace boost::asio {
class io_context;
}

namespace comms::intake {

struct IntakeOptions {
  std::string secrets_key;  // COMMS_SECRETS_KEY: 64 hex digits; empty = a per-process key
  std::chrono::milliseconds escalation_after{30 * 60 * 1000};  // COMMS_ESCALATION_AFTER
  std::chrono::milliseconds cache_ttl{300000};                 // COMMS_CACHE_TTL
  std::chrono::milliseconds poll{1000};                        // timeout scheduler's longest sleep
};

// What one event did.
struct IntakeResult {
  std::string event_id;
  std::string event_type;
  std::string correlation_id;
  bool duplicate = false;          // already in the inbox: nothing was done
  bool directory_updated = false;  // a recipient was created or changed
  std::string workflow;            // the workflow the event's rules name, if any
  std::string workflow_state;      // its state after this event; "" if it already existed
  Millis workflow_wake_at = 0;     // the timeout the new workflow armed; 0 = none
  Executed executed;               // notifications created and skipped
};

class Intake {
 public:
  // Throws std::invalid_argument for a malformed secrets key. `store`,
  // `cache`, `directory` and `io` must outlive the Intake.
  Intake(boost::asio::io_context& io, store::Store& store, cache::Cache& cache,
         delivery::RecipientDirectory& directory, Rules rules, IntakeOptions options,
         std::function<void()> wake_dispatcher);
  ~Intake();
  Intake(const Intake&) = delete;
  Intake& operator=(const Intake&) = delete;

  // Consumes one event of message type `type` ("LoanApplicationCreated").
  // Throws commands::Rejected(invalid): "unknown_event_type", or
  // "invalid_event" naming the field; store errors propagate (retry later).
  boost::asio::awaitable<IntakeResult> handle(std::string type, const bus::Envelope& envelope);

  // Subscribes a consumer for every catalogue type. Faults (bad payloads) go
  // to the error queue with the reason; store trouble is retried.
  void subscribe(bus::MessageBus& bus);
  // Hands the workflow engine our own NotificationSent and NotificationFailed
  // from the outbox relay, in process (bus/outbox_relay.h): they are this
  // service's events, so they need not travel through the broker and back.
  void react_to_own_events(bus::OutboxRelay& relay);

  void start();
  boost::asio::awaitable<void> stop(std::chrono::milliseconds timeout);

  PreferenceService& preferences() { return preferences_; }
  WorkflowEngine& workflows() { return engine_; }
  const Rules& rules() const { return rules_; }
  const Sealer& sealer() const { return sealer_; }

  // Decorators that keep sealed secrets out of the database (secret_delivery.h):
  // wrap the dispatcher's renderer, and the provider channels.
  std::unique_ptr<delivery::Renderer> secret_renderer(delivery::Renderer& inner);
  void reveal_secrets(delivery::Channels& channels);

 private:
  // The unit of work of one event: inbox, directory, notifications, workflow.
  void record(store::UnitOfWork& uow, const Event& ev, const Profiles& profiles, Millis now,
              IntakeResult& result) const;

  store::Store& store_;
  const Rules rules_;
  const IntakeOptions options_;
  const Sealer sealer_;
  TimeZones zones_;
  PreferenceService preferences_;
  Planner planner_;
  WorkflowEngine engine_;
  std::shared_ptr<SecretVault> vault_;
  std::function<void()> wake_dispatcher_;
};

}  // namespace comms::intake
