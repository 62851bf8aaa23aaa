#include "workflows/machines.h"

namespace comms::workflows {
namespace {
const StateMachine* const kMachines[] = {&notification_workflow(), &escalation_workflow()};
}  // namespace

std::string_view to_string(Trigger::Kind k) {
  switch (k) {
    case Trigger::Kind::notification_sent:
      return "NotificationSent";
    case Trigger::Kind::notification_failed:
      return "NotificationFailed";
    case Trigger::Kind::step_skipped:
      return "StepSkipped";
    case Trigger::Kind::timeout:
      return "Timeout";
  }
  return "Unknown";
}

const StateMachine* find_machine(std::string_view name) {
  for (const auto* m : kMachines)
    if (m->name() == name) return m;
  return nullptr;
}

std::vector<std::string_view> machine_names() {
  std::vector<std::string_view> out;
  for (const auto* m : kMachines) out.push_back(m->name());
  return out;
}

}  // namespace comms::workflows
