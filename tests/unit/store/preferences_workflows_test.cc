// Recipient preferences and saga instances (issue 4), on every backend.
#include "store_test.h"

namespace comms::store::testing {
namespace {

using PreferencesWorkflowsTest = StoreTest;
COMMS_STORE_BACKENDS(PreferencesWorkflowsTest);

RecipientPreferences sample_preferences() {
  RecipientPreferences p;
  p.recipient_id = "cust-" + new_uuid();
  p.opted_out_channels = {"sms", "email"};
  p.opted_out_categories = {"marketing"};
  p.quiet_start = "21:30";
  p.quiet_end = "06:45";
  p.timezone = "Africa/Lusaka";
  p.language = "bem";
  p.updated_at = 4321;
  return p;
}

WorkflowInstance sample_instance(Millis wake_at = 0) {
  WorkflowInstance w;
  w.correlation_id = new_uuid();
  w.workflow = "notification-workflow";
  w.current_state = "AwaitingCustomerSent";
  w.event_id = "evt-" + w.correlation_id;
  w.event_type = "LoanApplicationCreated";
  w.event_payload = R"({"applicationId":"A-1"})";
  w.flags = R"({"customerNotified":false})";
  w.steps = R"({"customer":["n-1"]})";
  w.wake_at = wake_at;
  w.created_at = 100;
  w.updated_at = 100;
  return w;
}

TEST_P(PreferencesWorkflowsTest, PreferencesRoundTripAndLastWriterWins) {
  auto p = sample_preferences();
  std::optional<RecipientPreferences> got;
  read([&](UnitOfWork& u) { got = u.preferences().get(p.recipient_id); });
  EXPECT_FALSE(got);

  write([&](UnitOfWork& u) { u.preferences().upsert(p); });
  EXPECT_EQ(p.version, 1);
  read([&](UnitOfWork& u) { got = u.preferences().get(p.recipient_id); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->opted_out_channels, p.opted_out_channels);
  EXPECT_EQ(got->opted_out_categories, p.opted_out_categories);
  EXPECT_EQ(got->quiet_start, "21:30");
  EXPECT_EQ(got->quiet_end, "06:45");
  EXPECT_EQ(got->timezone, "Africa/Lusaka");
  EXPECT_EQ(got->language, "bem");
  EXPECT_EQ(got->updated_at, 4321);
  EXPECT_EQ(got->version, 1);

  auto blind = p;
  blind.version = 0;
  blind.opted_out_channels.clear();
  blind.quiet_start.clear();
  blind.quiet_end.clear();
  write([&](UnitOfWork& u) { u.preferences().upsert(blind); });
  EXPECT_EQ(blind.version, 2);
  read([&](UnitOfWork& u) { got = u.preferences().get(p.recipient_id); });
  EXPECT_TRUE(got->opted_out_channels.empty());
  EXPECT_TRUE(got->quiet_start.empty());
}

TEST_P(PreferencesWorkflowsTest, PreferencesWithVersionAreChecked) {
  auto p = sample_preferences();
  write([&](UnitOfWork& u) { u.preferences().upsert(p); });
  auto stale = p;
  write([&](UnitOfWork& u) { u.preferences().upsert(p); });
  EXPECT_EQ(p.version, 2);
  EXPECT_THROW(write([&](UnitOfWork& u) { u.preferences().upsert(stale); }), ConflictError);
}

TEST_P(PreferencesWorkflowsTest, WorkflowInsertGetUpdateWithOptimisticConcurrency) {
  auto w = sample_instance();
  write([&](UnitOfWork& u) { u.workflows().insert(w); });
  EXPECT_EQ(w.version, 1);
  auto dup = w;
  EXPECT_THROW(write([&](UnitOfWork& u) { u.workflows().insert(dup); }), DuplicateError);

  std::optional<WorkflowInstance> got;
  read([&](UnitOfWork& u) { got = u.workflows().get(w.correlation_id); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->workflow, w.workflow);
  EXPECT_EQ(got->current_state, w.current_state);
  EXPECT_EQ(got->event_payload, w.event_payload);
  EXPECT_EQ(got->flags, w.flags);
  EXPECT_EQ(got->steps, w.steps);

  auto stale = *got;
  got->current_state = "Completed";
  got->completed_at = 200;
  write([&](UnitOfWork& u) { u.workflows().update(*got); });
  EXPECT_EQ(got->version, 2);
  stale.current_state = "Other";
  EXPECT_THROW(write([&](UnitOfWork& u) { u.workflows().update(stale); }), ConflictError);
  read([&](UnitOfWork& u) { got = u.workflows().get(w.correlation_id); });
  EXPECT_EQ(got->current_state, "Completed");
  EXPECT_EQ(got->completed_at, 200);
}

TEST_P(PreferencesWorkflowsTest, DueTimeoutsAreOrderedAndNextWakeIsTheEarliest) {
  auto late = sample_instance(500);
  auto early = sample_instance(300);
  auto none = sample_instance(0);
  write([&](UnitOfWork& u) {
    u.workflows().insert(late);
    u.workflows().insert(early);
    u.workflows().insert(none);
  });
  std::vector<WorkflowInstance> due;
  std::optional<Millis> next;
  read([&](UnitOfWork& u) {
    due = u.workflows().due(400, 10);
    next = u.workflows().next_wake_at();
  });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].correlation_id, early.correlation_id);
  EXPECT_EQ(next, 300);
  read([&](UnitOfWork& u) { due = u.workflows().due(1000, 10); });
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[1].correlation_id, late.correlation_id);
}

TEST_P(PreferencesWorkflowsTest, HistoryIsAppendOnlyInOrder) {
  auto w = sample_instance();
  write([&](UnitOfWork& u) {
    u.workflows().insert(w);
    WorkflowHistoryEntry a{0,
                           w.correlation_id,
                           100,
                           "",
                           "AwaitingCustomerSent",
                           "LoanApplicationCreated",
                           R"({"notificationIds":["n-1"]})"};
    WorkflowHistoryEntry b{0,           w.correlation_id,   150, "AwaitingCustomerSent",
                           "Completed", "NotificationSent", "{}"};
    u.workflows().add_history(a);
    u.workflows().add_history(b);
    EXPECT_LT(a.seq, b.seq);
  });
  std::vector<WorkflowHistoryEntry> h;
  read([&](UnitOfWork& u) { h = u.workflows().history(w.correlation_id); });
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].to_state, "AwaitingCustomerSent");
  EXPECT_EQ(h[0].detail, R"({"notificationIds":["n-1"]})");
  EXPECT_EQ(h[1].from_state, "AwaitingCustomerSent");
  EXPECT_EQ(h[1].cause, "NotificationSent");
  read([&](UnitOfWork& u) { h = u.workflows().history("nope"); });
  EXPECT_TRUE(h.empty());
}

TEST_P(PreferencesWorkflowsTest, ReadOnlyUnitRefusesWrites) {
  auto p = sample_preferences();
  auto w = sample_instance();
  EXPECT_THROW(read([&](UnitOfWork& u) { u.preferences().upsert(p); }), StoreError);
  EXPECT_THROW(read([&](UnitOfWork& u) { u.workflows().insert(w); }), StoreError);
}

}  // namespace
}  // namespace comms::store::testing
