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

// A rules file with one event whose notifications are `rules` (JSON array text), and `extra` keys.
std::string file(std::string_view event, std::string_view rules, std::string_view extra = "") {
  return R"({"events": {")" + std::string(event) + R"(": {)" + std::string(extra) + R"("notifications": [)" +
         std::string(rules) + "]}}}";
}

// A rule for `event` with a valid template, channel and recipient, plus `extra` keys.
std::string rule(std::string_view extra, std::string_view channels = R"(["sms"])",
                 std::string_view recipients = R"(["customer"])") {
  return R"({"template": {"category": "c", "name": "n"}, "channels": )" + std::string(channels) +
         R"(, "recipients": )" + std::string(recipients) + (extra.empty() ? "" : ", ") + std::string(extra) +
         "}";
}

bool mentions(std::string_view json, std::string_view needle) {
  const auto e = error_of(json);
  if (e.find(needle) != std::string::npos) return true;
  ADD_FAILURE() << "error '" << e << "' does not mention '" << needle << "'";
  return false;
}

TEST(Rules, ErrorsNameTheFileAndTheRule) {
  EXPECT_TRUE(mentions("{", "rules.json: invalid JSON"));
  EXPECT_TRUE(mentions(file("LoanExploded", ""),
                       "rules.json: events.LoanExploded: unknown event type 'LoanExploded'"));
  EXPECT_TRUE(mentions(file("PaymentReceived", R"({"channels": ["sms"], "recipients": ["customer"]})"),
                       "events.PaymentReceived.notifications[0]: missing 'template'"));
  EXPECT_TRUE(
      mentions(file("PaymentReceived",
                    R"({"template": {"category": "c"}, "channels": ["sms"], "recipients": ["customer"]})"),
               "notifications[0].template: missing 'name'"));
  EXPECT_TRUE(mentions(file("PaymentReceived", rule("", R"(["sms", "fax"])")),
                       "notifications[0].channels[1]: unknown channel 'fax'"));
  EXPECT_TRUE(mentions(file("PaymentReceived", rule("", R"(["sms"])", R"(["boss"])")),
                       "recipients[0]: unknown recipient 'boss'"));
  EXPECT_TRUE(mentions(file("PaymentReceived", rule("", R"(["sms"])", R"(["branch"])")), "in-app only"));
  EXPECT_TRUE(mentions(file("OtpRequested", rule("", R"(["inapp"])", R"(["branch"])")),
                       "OtpRequested has no branchId"));
  EXPECT_TRUE(mentions(file("PaymentReceived", rule(R"("priority": 12)")),
                       "notifications[0].priority: must be an integer from 0 to 9"));
  EXPECT_TRUE(
      mentions(file("PaymentReceived", rule(R"("colour": 1)")), "notifications[0]: unknown key 'colour'"));
  EXPECT_TRUE(mentions(file("PaymentReceived", rule(R"("fallbackContent": "Hi {{#x}}")")),
                       "notifications[0].fallbackContent: template error at line 1"));
}

TEST(Rules, WorkflowsAndConditionsAreChecked) {
  EXPECT_TRUE(mentions(
      file("RepaymentDue", "", R"("workflow": "nag", )"),
      "events.RepaymentDue.workflow: unknown workflow 'nag' (known: notification-workflow, escalation)"));
  EXPECT_TRUE(mentions(
      file("RepaymentDue", rule(R"("step": "inapp")", R"(["inapp"])"), R"("workflow": "escalation", )"),
      "workflow 'escalation' needs a rule for step 'sms'"));
  EXPECT_TRUE(mentions(file("RepaymentDue", rule(R"("step": "later")"), R"("workflow": "escalation", )"),
                       "has no step 'later'"));
  EXPECT_TRUE(mentions(file("RepaymentDue", rule(R"("step": "inapp")")), "'step' needs a workflow"));
  EXPECT_TRUE(mentions(file("PaymentOverdue", rule(R"("when": {"field": "daysLate", "atLeast": 30})")),
                       "PaymentOverdue has no field 'daysLate'"));
  EXPECT_TRUE(mentions(file("PaymentOverdue", rule(R"("when": {"field": "loanId", "atLeast": 30})")),
                       "'atLeast' needs a numeric field"));
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
