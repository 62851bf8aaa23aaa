// The seed's NotificationWorkflowSaga: the customer hears first (step
// "customer", an SMS by default); once that notification is sent, the
// branch staff are told (step "branch-staff", in-app); then Completed.
// If the customer's notification fails or was never created, the staff are
// told anyway: a new application must not go unnoticed.
#include "workflows/machines.h"

namespace comms::workflows {
namespace {

constexpr std::string_view kAwaiting = "AwaitingCustomerSent";
constexpr std::string_view kCompleted = "Completed";

class NotificationWorkflow final : public StateMachine {
 public:
  std::string_view name() const override { return "notification-workflow"; }
  std::vector<std::string_view> steps() const override { return {"customer", "branch-staff"}; }

  Decision start(const MachineOptions&) const override {
    Decision d;
    d.handled = true;
    d.next_state = kAwaiting;
    d.send_steps = {"customer"};
    d.set_flags = {{"customerNotified", false}, {"staffNotified", false}};
    d.note = "customer notification created";
    return d;
  }

  Decision on(const InstanceView& in, const Trigger& t, const MachineOptions&) const override {
    Decision d;
    if (in.state != kAwaiting || t.step != "customer") return d;
    using K = Trigger::Kind;
    if (t.kind != K::notification_sent && t.kind != K::notification_failed && t.kind != K::step_skipped)
      return d;
    d.handled = true;
    d.next_state = kCompleted;
    d.send_steps = {"branch-staff"};
    d.set_flags = {{"customerNotified", t.kind == K::notification_sent}, {"staffNotified", true}};
    d.complete = true;
    d.note = t.kind == K::notification_sent     ? "customer notification sent; branch staff notified"
             : t.kind == K::notification_failed ? "customer notification failed; branch staff notified anyway"
                                                : "no customer notification; branch staff notified";
    return d;
  }
};

}  // namespace

const StateMachine& notification_workflow() {
  static const NotificationWorkflow m;
  return m;
}

}  // namespace comms::workflows
