#include "intake/rules.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace comms::intake {
namespace {

std::string error_of(std::string_view json) {
  try {
    Rules::parse(json, "rules.json");
  } catch (const RulesError& e) {
    return e.what();
  }
  return "(no error)";
}

constexpr std::string_view kOne = R"({"events": {"PaymentReceived": {"notifications": [
  {"template": {"category": "collections", "name": "payment-received"}, "channels": ["sms"],
   "recipients": ["customer"], "priority": 4, "fallbackContent": "Got {{amount}}"}]}}})";

TEST(Rules, TheShippedFileLoadsAndCoversTheCatalogue) {
  const auto path = shipped_rules_path();
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  const auto rules = Rules::load_file(path);
  for (const auto& spec : catalogue()) EXPECT_NE(rules.for_event(spec.type), nullptr) << spec.type;
  const auto* created = rules.for_event("LoanApplicationCreated");
  EXPECT_EQ(created->workflow, "notification-workflow");
  EXPECT_EQ(created->for_step("customer").size(), 1u);
  const auto* otp = rules.for_event("OtpRequested");
  ASSERT_EQ(otp->notifications.size(), 1u);
  EXPECT_TRUE(otp->notifications[0].critical);
  EXPECT_NE(rules.find_template("otp", "otp"), nullptr);
}

TEST(Rules, ParsesAValidRule) {
  const auto rules = Rules::parse(kOne, "rules.json");
  const auto* er = rules.for_event("PaymentReceived");
  ASSERT_NE(er, nullptr);
  const auto& r = er->notifications.at(0);
  EXPECT_EQ(r.label, "events.PaymentReceived.notifications[0]");
  EXPECT_EQ(r.template_category, "collections");
  EXPECT_EQ(r.channels, std::vector<domain::Channel>{domain::Channel::sms});
  EXPECT_EQ(r.priority, 4);
  EXPECT_FALSE(r.critical);
  EXPECT_TRUE(r.fallback_content);
  EXPECT_EQ(rules.for_event("OtpRequested"), nullptr);
}

TEST(Rules, ErrorsNameTheFileAndTheRule) {
  EXPECT_NE(error_of("{").find("rules.json: invalid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"events": {"LoanExploded": {"notifications": []}}})")
                .find("rules.json: events.LoanExploded: unknown event type 'LoanExploded'"),
            std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentReceived": {"notifications": [{"channels": ["sms"], "recipients": ["customer"]}]}}})")
          .find("events.PaymentReceived.notifications[0]: missing 'template'"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentReceived": {"notifications": [{"template": {"category": "c"}, "channels": ["sms"], "recipients": ["customer"]}]}}})")
          .find("notifications[0].template: missing 'name'"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentReceived": {"notifications": [{"template": {"category": "c", "name": "n"}, "channels": ["sms", "fax"], "recipients": ["customer"]}]}}})")
          .find("notifications[0].channels[1]: unknown channel 'fax'"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentReceived": {"notifications": [{"template": {"category": "c", "name": "n"}, "channels": ["sms"], "recipients": ["boss"]}]}}})")
          .find("recipients[0]: unknown recipient 'boss'"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentReceived": {"notifications": [{"template": {"category": "c", "name": "n"}, "channels": ["sms"], "recipients": ["branch"]}]}}})")
          .find("in-app only"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"OtpRequested": {"notifications": [{"template": {"category": "c", "name": "n"}, "channels": ["inapp"], "recipients": ["branch"]}]}}})")
          .find("OtpRequested has no branchId"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentReceived": {"notifications": [{"template": {"category": "c", "name": "n"}, "channels": ["sms"], "recipients": ["customer"], "priority": 12}]}}})")
          .find("notifications[0].priority: must be an integer from 0 to 9"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentReceived": {"notifications": [{"template": {"category": "c", "name": "n"}, "channels": ["sms"], "recipients": ["customer"], "colour": 1}]}}})")
          .find("notifications[0]: unknown key 'colour'"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentReceived": {"notifications": [{"template": {"category": "c", "name": "n"}, "channels": ["sms"], "recipients": ["customer"], "fallbackContent": "Hi {{#x}}"}]}}})")
          .find("notifications[0].fallbackContent: template error at line 1"),
      std::string::npos);
}

TEST(Rules, WorkflowsAndConditionsAreChecked) {
  EXPECT_NE(error_of(R"({"events": {"RepaymentDue": {"workflow": "nag", "notifications": []}}})")
                .find("events.RepaymentDue.workflow: unknown workflow 'nag' (known: notification-workflow, "
                      "escalation)"),
            std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"RepaymentDue": {"workflow": "escalation", "notifications": [{"step": "inapp", "template": {"category": "c", "name": "n"}, "channels": ["inapp"], "recipients": ["customer"]}]}}})")
          .find("workflow 'escalation' needs a rule for step 'sms'"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"RepaymentDue": {"workflow": "escalation", "notifications": [{"step": "later", "template": {"category": "c", "name": "n"}, "channels": ["inapp"], "recipients": ["customer"]}]}}})")
          .find("has no step 'later'"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"RepaymentDue": {"notifications": [{"step": "inapp", "template": {"category": "c", "name": "n"}, "channels": ["inapp"], "recipients": ["customer"]}]}}})")
          .find("'step' needs a workflow"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentOverdue": {"notifications": [{"when": {"field": "daysLate", "atLeast": 30}, "template": {"category": "c", "name": "n"}, "channels": ["sms"], "recipients": ["customer"]}]}}})")
          .find("PaymentOverdue has no field 'daysLate'"),
      std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"events": {"PaymentOverdue": {"notifications": [{"when": {"field": "loanId", "atLeast": 30}, "template": {"category": "c", "name": "n"}, "channels": ["sms"], "recipients": ["customer"]}]}}})")
          .find("'atLeast' needs a numeric field"),
      std::string::npos);
}

TEST(Rules, ConditionsSelectRules) {
  const auto rules = Rules::load_file(shipped_rules_path());
  const auto* er = rules.for_event("PaymentOverdue");
  Event e;
  e.spec = find_event("PaymentOverdue");
  e.fields["daysOverdue"] = 10;
  EXPECT_TRUE(er->notifications[0].applies_to(e));
  EXPECT_FALSE(er->notifications[1].applies_to(e));
  e.fields["daysOverdue"] = 30;
  EXPECT_FALSE(er->notifications[0].applies_to(e));
  EXPECT_TRUE(er->notifications[1].applies_to(e));
  EXPECT_TRUE(er->notifications[2].applies_to(e));  // no condition
}

TEST(Rules, MissingFileIsAnError) {
  EXPECT_THROW(Rules::load_file("/nonexistent/rules.json"), RulesError);
}

}  // namespace
}  // namespace comms::intake
