#include "delivery/sms/africastalking/at_protocol.h"

#include <gtest/gtest.h>

#include "delivery/resilience/http_call.h"

namespace comms::delivery::africastalking {
namespace {

TEST(AtCost, ParsesAnyCurrencyExactly) {
  struct Case {
    const char* text;
    std::int64_t micros;
    const char* currency;
  } cases[] = {
      {"ZMW 0.2500", 250000, "ZMW"},       {"KES 0.8000", 800000, "KES"}, {"USD 0.0035", 3500, "USD"},
      {"NGN 2,200.50", 2200500000, "NGN"}, {"UGX 35", 35000000, "UGX"},   {"TZS 20.1234567", 20123457, "TZS"},
      {"  RWF   15.5 ", 15500000, "RWF"},  {"ZMW 0.0000001", 0, "ZMW"},   {"0", 0, ""},
  };
  for (const auto& c : cases) {
    const auto cost = parse_cost(c.text);
    ASSERT_TRUE(cost) << c.text;
    EXPECT_EQ(cost->micros, c.micros) << c.text;
    EXPECT_EQ(cost->currency, c.currency) << c.text;
  }
}

TEST(AtCost, RejectsMalformedText) {
  for (const char* bad :
       {"", "ZMW", "ZMW abc", "Z1W 0.1", "ZMW 0.1.2", "ZMW -1", "12 0.5", "ZMW 99999999999999"})
    EXPECT_FALSE(parse_cost(bad)) << bad;
}

TEST(AtResponse, ParsesTheDocumentedShape) {
  const auto r = parse_response(R"({"SMSMessageData":{"Message":"Sent to 2/3 Total Cost: ZMW 0.5000",
      "Recipients":[
        {"statusCode":101,"number":"+260971234567","status":"Success","cost":"ZMW 0.2500","messageId":"ATXid_a"},
        {"statusCode":"102","number":"+260961234567","status":"Queued","cost":"ZMW 0.2500","messageId":"ATXid_b"},
        {"statusCode":403,"number":"+26012","status":"InvalidPhoneNumber","cost":"0","messageId":"None"}]}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->summary, "Sent to 2/3 Total Cost: ZMW 0.5000");
  ASSERT_EQ(r->recipients.size(), 3u);
  EXPECT_EQ(r->recipients[0].status_code, 101);
  EXPECT_EQ(r->recipients[0].message_id, "ATXid_a");
  EXPECT_EQ(r->recipients[0].cost.micros, 250000);
  EXPECT_EQ(r->recipients[0].cost.currency, "ZMW");
  EXPECT_EQ(r->recipients[1].status_code, 102);
  EXPECT_EQ(r->recipients[2].status, "InvalidPhoneNumber");
  EXPECT_EQ(r->recipients[2].message_id, "") << "\"None\" means no id";
  EXPECT_EQ(r->recipients[2].cost.micros, 0);
}

TEST(AtResponse, ReportsWhatIsWrongWithOtherShapes) {
  std::string why;
  EXPECT_FALSE(parse_response("<xml/>", &why));
  EXPECT_NE(why.find("not JSON"), std::string::npos);
  EXPECT_FALSE(parse_response(R"({"SMSMessageData":{}})", &why));
  EXPECT_NE(why.find("Recipients"), std::string::npos);
  EXPECT_FALSE(parse_response(R"({"SMSMessageData":{"Recipients":[{"number":"+1"}]}})", &why));
  EXPECT_NE(why.find("statusCode"), std::string::npos);
  EXPECT_FALSE(parse_response("[]", &why));
  EXPECT_TRUE(parse_response(R"({"SMSMessageData":{"Message":"x","Recipients":[]}})"));
}

TEST(AtStatus, MapsEveryDocumentedCode) {
  for (int accepted : {100, 101, 102}) EXPECT_EQ(classify_status(accepted).fault, Fault::none) << accepted;
  for (int permanent : {402, 403, 404, 406})
    EXPECT_EQ(classify_status(permanent).fault, Fault::rejected) << permanent;
  for (int transient : {500, 501, 502})
    EXPECT_EQ(classify_status(transient).fault, Fault::unavailable) << transient;
  // Our own classification of the four the issue leaves open (see docs/providers.md).
  EXPECT_EQ(classify_status(401).fault, Fault::rejected);  // RiskHold
  EXPECT_EQ(classify_status(401).alert, "RiskHold");
  EXPECT_EQ(classify_status(405).fault, Fault::unavailable);  // InsufficientBalance
  EXPECT_EQ(classify_status(405).alert, "InsufficientBalance");
  EXPECT_EQ(classify_status(407).fault, Fault::unroutable);  // CouldNotRoute
  EXPECT_EQ(classify_status(409).fault, Fault::rejected);    // DoNotDisturbRejection
  EXPECT_EQ(classify_status(402).alert, "InvalidSenderId");
  EXPECT_TRUE(classify_status(403).alert.empty());
  // Unknown codes: by range; outside the failure ranges never re-sent here.
  EXPECT_EQ(classify_status(408).fault, Fault::rejected);
  EXPECT_EQ(classify_status(599).fault, Fault::unavailable);
  EXPECT_EQ(classify_status(103).fault, Fault::ambiguous);
}

TEST(AtHttp, ClassifiesNonSuccessAnswers) {
  const auto auth = classify_http_error(401, "The supplied authentication is invalid");
  EXPECT_EQ(auth.fault, Fault::rejected);
  EXPECT_EQ(auth.result.kind, SendResult::Kind::permanent);
  EXPECT_EQ(auth.alert, "http_401_credentials");
  EXPECT_EQ(auth.result.error, "HTTP 401: The supplied authentication is invalid");
  EXPECT_EQ(classify_http_error(400, "Request is missing required form field 'to'").fault, Fault::rejected);
  EXPECT_EQ(classify_http_error(500, "").fault, Fault::unavailable);
  EXPECT_EQ(classify_http_error(503, "busy").result.kind, SendResult::Kind::transient);
  EXPECT_EQ(classify_http_error(429, "").fault, Fault::unavailable);
  EXPECT_EQ(classify_http_error(504, "").fault, Fault::ambiguous);
  EXPECT_EQ(classify_http_error(302, "").alert, "http_redirect_misconfigured_url");
  EXPECT_EQ(classify_http_error(500, std::string(1000, 'x')).result.error.size(),
            std::string("HTTP 500: ").size() + 200);
}

TEST(AtForm, EncodesEveryField) {
  EXPECT_EQ(form_encode("a b&c=d+é"), "a+b%26c%3Dd%2B%C3%A9");
  EXPECT_EQ(
      messaging_form("sandbox", {"+260971234567", "+260961234567"}, "Hi there", "INTELLIFIN", true),
      "username=sandbox&to=%2B260971234567%2C%2B260961234567&message=Hi+there&from=INTELLIFIN&enqueue=1");
  EXPECT_EQ(messaging_form("u", {"+1"}, "x", "", false), "username=u&to=%2B1&message=x");
}

TEST(AtReports, MapsDeliveryStatuses) {
  using K = ReportMeaning::Kind;
  EXPECT_EQ(classify_report("Success", "").kind, K::delivered);
  for (const char* s : {"Sent", "Submitted", "Buffered"})
    EXPECT_EQ(classify_report(s, "").kind, K::progress) << s;
  const auto failed = classify_report("Failed", "InsufficientCredit");
  EXPECT_EQ(failed.kind, K::failed);
  EXPECT_EQ(failed.reason, "Failed: InsufficientCredit");
  EXPECT_EQ(classify_report("Rejected", "").reason, "Rejected");
  EXPECT_EQ(classify_report("Expired", "").kind, K::failed);
  EXPECT_EQ(classify_report("AbsentSubscriber", "DeliveryFailure").reason,
            "AbsentSubscriber: DeliveryFailure");
  EXPECT_EQ(classify_report("Teleported", "").kind, K::unknown);
}

TEST(AtNumbers, MatchByDigits) {
  EXPECT_EQ(number_key("+260 97-123 4567"), "260971234567");
  EXPECT_EQ(number_key("260971234567"), number_key("+260971234567"));
}

}  // namespace
}  // namespace comms::delivery::africastalking
