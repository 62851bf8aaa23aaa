#include "intake/payload.h"

#include <gtest/gtest.h>

#include "commands/rejected.h"

namespace comms::intake {
namespace {

const Sealer& sealer() {
  static const Sealer s(std::string(64, 'a'));
  return s;
}

Event parse(std::string_view type, std::string_view json, std::string_view message_id = "msg-1",
            std::string_view correlation = "") {
  return parse_event(*find_event(type), json, message_id, correlation, sealer());
}

std::string error(std::string_view type, std::string_view json, std::string_view message_id = "msg-1") {
  try {
    parse(type, json, message_id);
  } catch (const commands::Rejected& r) {
    EXPECT_EQ(r.code(), "invalid_event");
    return r.what();
  }
  return "(accepted)";
}

constexpr std::string_view kCreated = R"({
  "EventId": "0b7f6c1e-2a44-4c55-9d0e-3f2a1b6c7d8e", "EVENTTIMESTAMP": "2026-03-01T08:00:00Z",
  "applicationid": "APP-1", "customerId": 42, "requestedAmount": "15000.50", "productType": "Salary Advance",
  "branchId": "lusaka-01", "customerName": "Mwansa Banda", "customerPhone": "0971 234 567",
  "customerEmail": "mwansa@example.com", "somethingElse": {"x": 1}})";

TEST(Payload, NamesAreMatchedCaseInsensitivelyAndNormalized) {
  const auto e = parse("LoanApplicationCreated", kCreated);
  EXPECT_EQ(e.id, "0b7f6c1e-2a44-4c55-9d0e-3f2a1b6c7d8e");
  EXPECT_EQ(e.correlation_id, e.id);
  EXPECT_GT(e.timestamp, 0);
  EXPECT_EQ(e.text("applicationId"), "APP-1");
  EXPECT_EQ(e.text("customerId"), "42");  // numeric ids become text
  EXPECT_EQ(e.fields.at("requestedAmount").as_double(), 15000.5);
  EXPECT_EQ(e.text("customerPhone"), "+260971234567");
  EXPECT_EQ(e.text("currency"), "ZMW");  // the default
  EXPECT_FALSE(e.fields.contains("somethingElse"));
  EXPECT_FALSE(e.fields.contains("EventId"));
}

TEST(Payload, WholeAmountsStayIntegers) {
  auto e = parse("PaymentReceived", R"({"paymentId": "P1", "loanId": "L1", "customerId": "c", "amount": 1500,
    "paymentDate": "2026-03-01T10:00:00+02:00", "branchId": "b", "customerName": "N", "currency": "zmw"})");
  EXPECT_TRUE(e.fields.at("amount").is_int64());
  EXPECT_EQ(e.text("currency"), "ZMW");
}

TEST(Payload, EventIdFallsBackToTheMessageIdAndCorrelationToTheEnvelope) {
  const auto e = parse("ClientContactUpdated", R"({"clientId": "c-1"})", "msg-9", "corr-3");
  EXPECT_EQ(e.id, "msg-9");
  EXPECT_EQ(e.correlation_id, "corr-3");
  EXPECT_EQ(e.text("eventId"), "msg-9");
  EXPECT_NE(error("ClientContactUpdated", R"({"clientId": "c-1"})", "").find("field 'eventId' is missing"),
            std::string::npos);
}

TEST(Payload, BadPayloadsNameTheField) {
  EXPECT_EQ(error("LoanApplicationCreated", "[1]"),
            "LoanApplicationCreated: the message must be a JSON object");
  EXPECT_NE(error("LoanApplicationCreated", "{").find("not valid JSON"), std::string::npos);
  EXPECT_EQ(error("LoanApplicationCreated", R"({"customerId": "c"})"),
            "LoanApplicationCreated: fields 'applicationId', 'requestedAmount', 'productType', 'branchId', "
            "'customerName' are missing");
  EXPECT_EQ(error("LoanApplicationCreated",
                  R"({"customerId": "c", "requestedAmount": 5, "productType": "p", "branchId": "b",
    "customerName": "N"})"),
            "LoanApplicationCreated: field 'applicationId' is missing");
  EXPECT_EQ(error("PaymentOverdue",
                  R"({"loanId": "L", "customerId": "c", "amountOverdue": "lots", "dueDate": "2026-03-01",
    "daysOverdue": 3, "branchId": "b", "customerName": "N"})"),
            "PaymentOverdue: field 'amountOverdue' must be a number");
  EXPECT_EQ(error("PaymentOverdue",
                  R"({"loanId": "L", "customerId": "c", "amountOverdue": -5, "dueDate": "2026-03-01",
    "daysOverdue": 3, "branchId": "b", "customerName": "N"})"),
            "PaymentOverdue: field 'amountOverdue' must not be negative");
  EXPECT_EQ(error("PaymentOverdue",
                  R"({"loanId": "L", "customerId": "c", "amountOverdue": 5, "dueDate": "31/03/2026",
    "daysOverdue": 3, "branchId": "b", "customerName": "N"})"),
            "PaymentOverdue: field 'dueDate' must be an ISO-8601 date such as 2026-03-31");
  EXPECT_EQ(error("PaymentOverdue",
                  R"({"loanId": "L", "customerId": "c", "amountOverdue": 5, "dueDate": "2026-03-31",
    "daysOverdue": 3.5, "branchId": "b", "customerName": "N"})"),
            "PaymentOverdue: field 'daysOverdue' must be an integer");
  EXPECT_EQ(
      error("ClientCreated", R"({"clientId": "c", "firstName": "A", "lastName": "B", "phone": "12ab"})"),
      "ClientCreated: field 'phone' must be a phone number in E.164 form such as +260971234567");
  EXPECT_EQ(
      error("ClientCreated", R"({"clientId": "c", "firstName": "A", "lastName": "B", "email": "nope"})"),
      "ClientCreated: field 'email' must be an email address");
  EXPECT_EQ(error("ClientCreated", R"({"clientId": true, "firstName": "A", "lastName": "B"})"),
            "ClientCreated: field 'clientId' must be a string");
  EXPECT_EQ(error("ClientCreated", R"({"clientId": "", "firstName": "A", "lastName": "B"})"),
            "ClientCreated: field 'clientId' must not be empty");
}

TEST(Payload, SecretsAreSealedAndNeverEchoed) {
  const auto e = parse("OtpRequested", R"({"userId": "u-1", "otpCode": "482913", "purpose": "login"})");
  const auto sealed = e.text("otpCode");
  EXPECT_TRUE(Sealer::is_token(sealed));
  EXPECT_EQ(sealed.find("482913"), std::string::npos);
  EXPECT_EQ(sealer().open(sealed), "482913");
  const auto msg =
      error("OtpRequested", R"({"userId": "u-1", "otpCode": {"code": "482913"}, "purpose": "login"})");
  EXPECT_EQ(msg, "OtpRequested: field 'otpCode' must be a string");
  EXPECT_EQ(msg.find("482913"), std::string::npos);
}

TEST(Payload, PhoneNormalization) {
  EXPECT_EQ(normalize_phone("+260 97 123 4567"), "+260971234567");
  EXPECT_EQ(normalize_phone("0971234567"), "+260971234567");
  EXPECT_EQ(normalize_phone("260971234567"), "+260971234567");
  EXPECT_EQ(normalize_phone("(+44) 20-7946-0958"), "+442079460958");
  EXPECT_FALSE(normalize_phone("971234567"));
  EXPECT_FALSE(normalize_phone("+0123"));
  EXPECT_FALSE(normalize_phone("phone"));
}

}  // namespace
}  // namespace comms::intake
