// Runs the saga state machines (workflows/) against the store: starts
// instances inside intake's unit of work, advances them on NotificationSent /
// NotificationFailed from the bus, and fires their durable timeouts.
//
// Each transition is one unit of work: re-read the instance, decide, create
// the notifications of the steps the machine names, append the history, and
// update the instance with its version checked (optimistic concurrency). A
// store::ConflictError (another instance of the service advanced it first)
// rolls all of that back and the transition is retried from a fresh read, so
// a step is never sent twice. Bus messages are also recorded in the inbox in
// the same unit, so a redelivered NotificationSent does nothing.
//
// Timeouts are the instances' wake_at column, polled by a loop on this
// engine's strand (woken early when a new timeout is armed): they survive
// restarts, and on several instances the version check makes one of them win.
//
// Thread-safety: on_notification_event() may run concurrently from many
// coroutines; start_scheduler()/stop() from the owner. The engine must outlive
// its scheduler, which stop() ends.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "bus/message_bus.h"
#include "intake/planner.h"
#include "intake/rules.h"
#include "workflows/state_machine.h"

namespace boost::asio {
class io_context;
}

namespace comms::intake {

struct WorkflowOptions {
  workflows::MachineOptions machine;
  std::chrono::milliseconds poll{1000};  // longest sleep of the timeout scheduler
  int max_conflict_retries = 5;
};

class WorkflowEngine {
 public:
  WorkflowEngine(boost::asio::io_context& io, store::Store& store, const Rules& rules, const Planner& planner,
                 PreferenceService& profiles, WorkflowOptions options, std::function<void()> wake_dispatcher);
  ~WorkflowEngine();

  struct Started {
    std::string state;   // "" when an instance with the correlation id already exists
    Millis wake_at = 0;  // the timeout it armed; 0 = none
  };
  // Inside the caller's unit of work: creates the instance for `e` (correlated
  // by e.correlation_id) and applies the machine's start decision. An existing
  // instance with that correlation id makes the event start nothing, as a
  // MassTransit saga ignores a second initial event. Call wake() after the
  // commit when a timeout was armed.
  Started start(store::UnitOfWork& uow, const workflows::StateMachine& machine, const EventRules& rules,
                const Event& e, const Profiles& profiles, Millis now, Executed& out) const;

  // The bus consumer for NotificationSent / NotificationFailed.
  boost::asio::awaitable<bus::HandleResult> on_notification_event(workflows::Trigger::Kind kind,
                                                                  const bus::Envelope& envelope);
  // Fires the timeout of one instance if it is due (used by the scheduler, and by tests).
  boost::asio::awaitable<void> fire_timeout(std::string correlation_id);

  void start_scheduler();
  // A timeout was armed: look again now.
  void wake();
  boost::asio::awaitable<void> stop(std::chrono::milliseconds timeout);

  // Transitions retried after a version conflict, since start (for tests and metrics).
  std::int64_t conflict_retries() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace comms::intake
