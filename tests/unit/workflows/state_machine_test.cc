#include "workflows/state_machine.h"

#include <gtest/gtest.h>

namespace comms::workflows {
namespace {

using namespace std::chrono_literals;
using K = Trigger::Kind;

const StateMachine& machine(std::string_view name) {
  const auto* m = find_machine(name);
  EXPECT_NE(m, nullptr) << name;
  return *m;
}

InstanceView after_start(const StateMachine& m, const MachineOptions& o) {
  const auto d = m.start(o);
  InstanceView v;
  v.state = d.next_state;
  for (const auto& [k, b] : d.set_flags) v.flags[k] = b;
  return v;
}

domain::Notification row(std::string id, Millis read_at = 0) {
  domain::Notification n;
  n.id = std::move(id);
  n.read_at = read_at;
  return n;
}

TEST(Registry, KnowsBothMachinesAndTheirSteps) {
  EXPECT_EQ(find_machine("nope"), nullptr);
  ASSERT_EQ(machine_names().size(), 2u);
  const auto steps = machine("notification-workflow").steps();
  EXPECT_EQ(steps, (std::vector<std::string_view>{"customer", "branch-staff"}));
  EXPECT_EQ(machine("escalation").steps(), (std::vector<std::string_view>{"inapp", "sms"}));
  EXPECT_EQ(to_string(K::notification_sent), "NotificationSent");
}

TEST(NotificationWorkflow, StartsBySendingTheCustomerStep) {
  const auto d = machine("notification-workflow").start({});
  EXPECT_TRUE(d.handled);
  EXPECT_EQ(d.next_state, "AwaitingCustomerSent");
  EXPECT_EQ(d.send_steps, std::vector<std::string>{"customer"});
  EXPECT_FALSE(d.complete);
  EXPECT_FALSE(d.wake_after);
}

TEST(NotificationWorkflow, CustomerSentNotifiesBranchStaffAndCompletes) {
  const auto& m = machine("notification-workflow");
  auto v = after_start(m, {});
  const auto d = m.on(v, Trigger{K::notification_sent, "n-1", "customer"}, {});
  EXPECT_TRUE(d.handled);
  EXPECT_EQ(d.next_state, "Completed");
  EXPECT_EQ(d.send_steps, std::vector<std::string>{"branch-staff"});
  EXPECT_TRUE(d.complete);
  EXPECT_TRUE(d.set_flags.at("customerNotified"));
  EXPECT_TRUE(d.set_flags.at("staffNotified"));
}

TEST(NotificationWorkflow, FailedOrSkippedCustomerStepStillTellsStaff) {
  const auto& m = machine("notification-workflow");
  auto v = after_start(m, {});
  for (auto kind : {K::notification_failed, K::step_skipped}) {
    const auto d = m.on(v, Trigger{kind, "n-1", "customer"}, {});
    EXPECT_TRUE(d.handled);
    EXPECT_EQ(d.send_steps, std::vector<std::string>{"branch-staff"});
    EXPECT_FALSE(d.set_flags.at("customerNotified"));
  }
}

TEST(NotificationWorkflow, IgnoresTriggersThatDoNotApply) {
  const auto& m = machine("notification-workflow");
  auto v = after_start(m, {});
  EXPECT_FALSE(m.on(v, Trigger{K::notification_sent, "n-2", "branch-staff"}, {}).handled);
  EXPECT_FALSE(m.on(v, Trigger{K::timeout, "", ""}, {}).handled);
  v.state = "Completed";  // a second NotificationSent after completion
  EXPECT_FALSE(m.on(v, Trigger{K::notification_sent, "n-1", "customer"}, {}).handled);
}

TEST(Escalation, StartsInAppAndArmsTheTimeout) {
  const auto d = machine("escalation").start({.escalation_after = 90s});
  EXPECT_EQ(d.next_state, "AwaitingRead");
  EXPECT_EQ(d.send_steps, std::vector<std::string>{"inapp"});
  ASSERT_TRUE(d.wake_after);
  EXPECT_EQ(*d.wake_after, 90s);
}

TEST(Escalation, UnreadAtTimeoutEscalatesToSms) {
  const auto& m = machine("escalation");
  auto v = after_start(m, {});
  v.steps["inapp"] = {row("n-1")};
  const auto d = m.on(v, Trigger{K::timeout, "", ""}, {});
  EXPECT_TRUE(d.handled);
  EXPECT_EQ(d.send_steps, std::vector<std::string>{"sms"});
  EXPECT_TRUE(d.set_flags.at("escalated"));
  EXPECT_TRUE(d.complete);
}

TEST(Escalation, ReadInTimeCompletesWithoutSms) {
  const auto& m = machine("escalation");
  auto v = after_start(m, {});
  v.steps["inapp"] = {row("n-1", 1234)};
  const auto d = m.on(v, Trigger{K::timeout, "", ""}, {});
  EXPECT_TRUE(d.handled);
  EXPECT_TRUE(d.send_steps.empty());
  EXPECT_TRUE(d.set_flags.at("read"));
  EXPECT_FALSE(d.set_flags.at("escalated"));
  EXPECT_TRUE(d.complete);
}

TEST(Escalation, FailedOrMissingInAppEscalatesAtOnce) {
  const auto& m = machine("escalation");
  auto v = after_start(m, {});
  EXPECT_EQ(m.on(v, Trigger{K::notification_failed, "n-1", "inapp"}, {}).send_steps,
            std::vector<std::string>{"sms"});
  EXPECT_EQ(m.on(v, Trigger{K::step_skipped, "", "inapp"}, {}).send_steps, std::vector<std::string>{"sms"});
  EXPECT_FALSE(m.on(v, Trigger{K::notification_sent, "n-1", "inapp"}, {}).handled);
  v.state = "Completed";
  EXPECT_FALSE(m.on(v, Trigger{K::timeout, "", ""}, {}).handled);
}

}  // namespace
}  // namespace comms::workflows
