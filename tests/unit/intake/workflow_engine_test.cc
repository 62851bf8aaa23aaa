#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>

#include "intake_fixture.h"

namespace comms::intake::testing {
namespace {

using workflows::Trigger;

bus::Envelope sent_event(const domain::Notification& n, std::string message_id = "") {
  bus::Envelope env;
  env.message_id = message_id.empty() ? new_uuid() : std::move(message_id);
  boost::json::object o{{"notificationId", n.id}, {"CorrelationId", n.correlation_id}, {"status", "Sent"}};
  env.message = boost::json::serialize(o);
  return env;
}

class WorkflowEngineTest : public IntakeFixture {
 protected:
  std::optional<store::WorkflowInstance> workflow(const std::string& correlation) {
    std::optional<store::WorkflowInstance> w;
    read([&](store::UnitOfWork& uow) { w = uow.workflows().get(correlation); });
    return w;
  }
  std::vector<store::WorkflowHistoryEntry> history(const std::string& correlation) {
    std::vector<store::WorkflowHistoryEntry> h;
    read([&](store::UnitOfWork& uow) { h = uow.workflows().history(correlation); });
    return h;
  }
  bus::HandleResult on(Trigger::Kind kind, const bus::Envelope& env) {
    return run(intake_->workflows().on_notification_event(kind, env));
  }
};

TEST_F(WorkflowEngineTest, ApplicationSagaCustomerSmsThenBranchStaffThenCompleted) {
  const auto r = post("LoanApplicationCreated", created_json("APP-1"), "", "corr-app-1");
  EXPECT_EQ(r.workflow, "notification-workflow");
  EXPECT_EQ(r.workflow_state, "AwaitingCustomerSent");
  ASSERT_EQ(r.executed.created.size(), 1u);
  const auto sms = r.executed.created[0];
  EXPECT_EQ(sms.channel, domain::Channel::sms);
  EXPECT_EQ(sms.recipient_id, "cust-1");
  EXPECT_EQ(sms.correlation_id, "corr-app-1");
  EXPECT_EQ(sms.template_name, "application-received");

  // NotificationDelivered and strangers' notifications change nothing.
  domain::Notification stranger = sms;
  stranger.id = new_uuid();
  EXPECT_EQ(on(Trigger::Kind::notification_sent, sent_event(stranger)).outcome, bus::Outcome::done);
  EXPECT_EQ(workflow("corr-app-1")->current_state, "AwaitingCustomerSent");

  const auto env = sent_event(sms);
  EXPECT_EQ(on(Trigger::Kind::notification_sent, env).outcome, bus::Outcome::done);
  auto w = workflow("corr-app-1");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->current_state, "Completed");
  EXPECT_NE(w->completed_at, 0);
  EXPECT_EQ(w->version, 2);
  const auto flags = boost::json::parse(w->flags).as_object();
  EXPECT_TRUE(flags.at("customerNotified").as_bool());
  EXPECT_TRUE(flags.at("staffNotified").as_bool());
  const auto staff = notifications("branch:lusaka-01");
  ASSERT_EQ(staff.size(), 1u);
  EXPECT_EQ(staff[0].channel, domain::Channel::inapp);
  EXPECT_EQ(staff[0].template_name, "new-application");
  EXPECT_EQ(staff[0].correlation_id, "corr-app-1");

  // A redelivery, or a second NotificationSent, sends nothing more.
  on(Trigger::Kind::notification_sent, env);
  on(Trigger::Kind::notification_sent, sent_event(sms));
  EXPECT_EQ(notifications("branch:lusaka-01").size(), 1u);
  const auto h = history("corr-app-1");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].from_state, "");
  EXPECT_EQ(h[0].to_state, "AwaitingCustomerSent");
  EXPECT_EQ(h[0].cause, "LoanApplicationCreated");
  EXPECT_EQ(h[1].from_state, "AwaitingCustomerSent");
  EXPECT_EQ(h[1].to_state, "Completed");
  EXPECT_EQ(h[1].cause, "NotificationSent");
}

TEST_F(WorkflowEngineTest, ASecondStartingEventForTheSameCorrelationStartsNothing) {
  post("LoanApplicationCreated", created_json("APP-1"), "", "corr-x");
  const auto again = post("LoanApplicationCreated", created_json("APP-1b"), "", "corr-x");
  EXPECT_FALSE(again.duplicate);
  EXPECT_EQ(again.workflow_state, "");
  EXPECT_TRUE(again.executed.created.empty());
  EXPECT_EQ(notifications().size(), 1u);
}

TEST_F(WorkflowEngineTest, AVersionConflictIsRetriedAndNeverDoubleSends) {
  const auto r = post("LoanApplicationCreated", created_json(), "", "corr-conflict");
  // Another service instance touches the saga between our read and our write.
  store_view_->interloper = [](store::UnitOfWork& uow) {
    auto w = uow.workflows().get("corr-conflict");
    w->updated_at += 1;
    uow.workflows().update(*w);
  };
  EXPECT_EQ(on(Trigger::Kind::notification_sent, sent_event(r.executed.created[0])).outcome,
            bus::Outcome::done);
  EXPECT_EQ(intake_->workflows().conflict_retries(), 1);
  EXPECT_EQ(workflow("corr-conflict")->current_state, "Completed");
  EXPECT_EQ(notifications("branch:lusaka-01").size(), 1u);
  EXPECT_EQ(history("corr-conflict").size(), 2u);
}

TEST_F(WorkflowEngineTest, ConcurrentNotificationSentDeliveriesAdvanceOnce) {
  const auto r = post("LoanApplicationCreated", created_json(), "", "corr-race");
  const auto sms = r.executed.created[0];
  std::vector<bus::Envelope> envs;  // they must outlive the handlers
  for (int i = 0; i < 4; ++i) envs.push_back(sent_event(sms));
  std::vector<std::future<bus::HandleResult>> fs;
  for (const auto& env : envs)
    fs.push_back(boost::asio::co_spawn(
        io_, intake_->workflows().on_notification_event(Trigger::Kind::notification_sent, env),
        boost::asio::use_future));
  io_.restart();
  io_.run();
  for (auto& f : fs) EXPECT_EQ(f.get().outcome, bus::Outcome::done);
  EXPECT_EQ(notifications("branch:lusaka-01").size(), 1u);
  EXPECT_EQ(history("corr-race").size(), 2u);
}

TEST_F(WorkflowEngineTest, FailedCustomerSmsStillNotifiesStaff) {
  const auto r = post("LoanApplicationCreated", created_json(), "", "corr-failed");
  on(Trigger::Kind::notification_failed, sent_event(r.executed.created[0]));
  auto w = workflow("corr-failed");
  EXPECT_EQ(w->current_state, "Completed");
  EXPECT_FALSE(boost::json::parse(w->flags).as_object().at("customerNotified").as_bool());
  EXPECT_EQ(notifications("branch:lusaka-01").size(), 1u);
}

TEST_F(WorkflowEngineTest, NoCustomerAddressSkipsStraightToStaff) {
  auto payload = boost::json::parse(created_json()).as_object();
  payload.erase("customerPhone");
  const auto r = post("LoanApplicationCreated", boost::json::serialize(payload), "", "corr-noaddr");
  EXPECT_EQ(r.workflow_state, "Completed");
  ASSERT_EQ(r.executed.created.size(), 1u);
  EXPECT_EQ(r.executed.created[0].recipient_id, "branch:lusaka-01");
  ASSERT_EQ(r.executed.skipped.size(), 1u);
  EXPECT_EQ(r.executed.skipped[0].reason, "no_address");
  EXPECT_EQ(history("corr-noaddr").back().cause, "StepSkipped");
}

constexpr std::string_view kRepaymentDue = R"({"loanId": "L-5", "customerId": "cust-5", "amountDue": 750,
  "dueDate": "2026-04-01", "branchId": "lusaka-01", "customerName": "Bwalya", "customerPhone": "+260971000005"})";

TEST_F(WorkflowEngineTest, EscalationSendsSmsWhenTheInAppNotificationStaysUnread) {
  make_intake({.secrets_key = std::string(64, '7'), .escalation_after = std::chrono::milliseconds(1)});
  const auto r = post("RepaymentDue", std::string(kRepaymentDue), "", "corr-esc");
  EXPECT_EQ(r.workflow_state, "AwaitingRead");
  ASSERT_EQ(r.executed.created.size(), 1u);
  EXPECT_EQ(r.executed.created[0].channel, domain::Channel::inapp);
  auto w = workflow("corr-esc");
  EXPECT_GT(w->wake_at, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  run(intake_->workflows().fire_timeout("corr-esc"));
  w = workflow("corr-esc");
  EXPECT_EQ(w->current_state, "Completed");
  EXPECT_EQ(w->wake_at, 0);
  EXPECT_TRUE(boost::json::parse(w->flags).as_object().at("escalated").as_bool());
  const auto all = notifications("cust-5");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].channel == domain::Channel::sms || all[1].channel == domain::Channel::sms, true);
  run(intake_->workflows().fire_timeout("corr-esc"));  // fired twice: nothing more
  EXPECT_EQ(notifications("cust-5").size(), 2u);
}

TEST_F(WorkflowEngineTest, EscalationStopsWhenTheInAppNotificationWasRead) {
  make_intake({.secrets_key = std::string(64, '7'), .escalation_after = std::chrono::milliseconds(1)});
  const auto r = post("RepaymentDue", std::string(kRepaymentDue), "", "corr-read");
  write([&](store::UnitOfWork& uow) {
    auto n = uow.notifications().get(r.executed.created[0].id);
    n->read_at = now_ms();
    uow.notifications().update(*n);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  run(intake_->workflows().fire_timeout("corr-read"));
  auto w = workflow("corr-read");
  EXPECT_EQ(w->current_state, "Completed");
  EXPECT_TRUE(boost::json::parse(w->flags).as_object().at("read").as_bool());
  EXPECT_EQ(notifications("cust-5").size(), 1u);
}

TEST_F(WorkflowEngineTest, TheSchedulerFiresDueTimeoutsByItself) {
  make_intake({.secrets_key = std::string(64, '7'),
               .escalation_after = std::chrono::milliseconds(20),
               .poll = std::chrono::milliseconds(10)});
  post("RepaymentDue", std::string(kRepaymentDue), "", "corr-sched");
  intake_->start();
  boost::asio::steady_timer t(io_);
  auto f = boost::asio::co_spawn(
      io_,
      [&]() -> boost::asio::awaitable<void> {
        for (int i = 0; i < 200 && workflow("corr-sched")->completed_at == 0; ++i) {
          t.expires_after(std::chrono::milliseconds(10));
          co_await t.async_wait(boost::asio::use_awaitable);
        }
        co_await intake_->stop(std::chrono::seconds(2));
      },
      boost::asio::use_future);
  io_.restart();
  io_.run();
  f.get();
  EXPECT_EQ(workflow("corr-sched")->current_state, "Completed");
  EXPECT_EQ(notifications("cust-5").size(), 2u);
}

}  // namespace
}  // namespace comms::intake::testing
