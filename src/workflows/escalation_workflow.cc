// Escalation: an in-app notification first (step "inapp"); if it has not been
// read when the timeout comes (MachineOptions::escalation_after after it was
// due), an SMS follows (step "sms"). The timeout is durable: it is the
// instance's wake_at, polled by the WorkflowEngine, so it survives restarts.
// A failed or never-created in-app notification escalates at once.
#include <algorithm>

#include "workflows/machines.h"

namespace comms::workflows {
namespace {

constexpr std::string_view kAwaitingRead = "AwaitingRead";
constexpr std::string_view kCompleted = "Completed";

Decision escalate(std::string note) {
  Decision d;
  d.handled = true;
  d.next_state = kCompleted;
  d.send_steps = {"sms"};
  d.set_flags = {{"read", false}, {"escalated", true}};
  d.complete = true;
  d.note = std::move(note);
  return d;
}

class EscalationWorkflow final : public StateMachine {
 public:
  std::string_view name() const override { return "escalation"; }
  std::vector<std::string_view> steps() const override { return {"inapp", "sms"}; }

  Decision start(const MachineOptions& o) const override {
    Decision d;
    d.handled = true;
    d.next_state = kAwaitingRead;
    d.send_steps = {"inapp"};
    d.set_flags = {{"read", false}, {"escalated", false}};
    d.wake_after = o.escalation_after;
    d.note = "in-app notification created; SMS if unread";
    return d;
  }

  Decision on(const InstanceView& in, const Trigger& t, const MachineOptions&) const override {
    if (in.state != kAwaitingRead) return {};
    using K = Trigger::Kind;
    switch (t.kind) {
      case K::notification_failed:
        if (t.step != "inapp") return {};
        return escalate("in-app notification failed; escalated to SMS");
      case K::step_skipped:
        if (t.step != "inapp") return {};
        return escalate("no in-app notification; escalated to SMS");
      case K::timeout: {
        const auto it = in.steps.find("inapp");
        const bool read = it != in.steps.end() && std::any_of(it->second.begin(), it->second.end(),
                                                              [](const auto& n) { return n.read_at != 0; });
        if (!read) return escalate("in-app notification unread; escalated to SMS");
        Decision d;
        d.handled = true;
        d.next_state = kCompleted;
        d.set_flags = {{"read", true}, {"escalated", false}};
        d.complete = true;
        d.note = "in-app notification read in time";
        return d;
      }
      case K::notification_sent:
        return {};
    }
    return {};
  }
};

}  // namespace

const StateMachine& escalation_workflow() {
  static const EscalationWorkflow m;
  return m;
}

}  // namespace comms::workflows
