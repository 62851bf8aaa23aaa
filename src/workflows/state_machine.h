// Saga state machines (the seed's NotificationWorkflowSaga and friends), as
// pure decision functions: given an instance's state and a trigger, say what
// happens next. No I/O: intake's WorkflowEngine loads the instance, calls the
// machine, creates the notifications of the steps it names and persists the
// new state with its history, all in one unit of work (optimistic concurrency
// on the instance's version).
//
// A machine names its steps ("customer", "branch-staff", ...); the rules file
// attaches notification rules to each step, so what is sent, to whom and on
// which channel stays configuration.
//
// Thread-safety: machines are immutable; share them freely.
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/notification.h"

namespace comms::workflows {

// What happened to an instance.
struct Trigger {
  enum class Kind {
    notification_sent,    // NotificationSent for one of the instance's notifications
    notification_failed,  // NotificationFailed for one of them
    step_skipped,         // a step produced no notification (opted out, no address, ...)
    timeout,              // the instance's wake_at came
  };
  Kind kind = Kind::timeout;
  std::string notification_id;  // sent / failed
  std::string step;             // the step of that notification, or the skipped step
};

std::string_view to_string(Trigger::Kind k);

// A read-only view of an instance for deciding.
struct InstanceView {
  std::string state;
  std::map<std::string, bool> flags;
  // Each step that ran, with the current rows of the notifications it created.
  std::map<std::string, std::vector<domain::Notification>> steps;
};

struct Decision {
  bool handled = false;  // false: the trigger does not apply in this state; nothing changes
  std::string next_state;
  std::vector<std::string> send_steps;  // create these steps' notifications now
  std::map<std::string, bool> set_flags;
  // Arm a timeout this long after the due time of the notifications sent by
  // this decision (their not-before, so quiet hours push it too).
  std::optional<std::chrono::milliseconds> wake_after;
  bool complete = false;  // the instance is finished (CompletedAt is set)
  std::string note;       // a short reason, recorded in the history
};

struct MachineOptions {
  std::chrono::milliseconds escalation_after{30 * 60 * 1000};
};

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  virtual std::string_view name() const = 0;
  // Every step the machine may send; the rules must give each at least one rule.
  virtual std::vector<std::string_view> steps() const = 0;
  // The first decision, when the starting event arrives.
  virtual Decision start(const MachineOptions& options) const = 0;
  // A later trigger. Never called once the instance completed.
  virtual Decision on(const InstanceView& instance, const Trigger& trigger,
                      const MachineOptions& options) const = 0;
};

// The machine called `name`, or nullptr.
const StateMachine* find_machine(std::string_view name);
// Every machine's name, for error messages.
std::vector<std::string_view> machine_names();

}  // namespace comms::workflows
