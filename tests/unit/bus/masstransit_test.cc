#include "bus/masstransit.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace comms::bus {
namespace {

namespace json = boost::json;

// An envelope as MassTransit 8 serializes it (System.Text.Json, camelCase).
constexpr const char* kMassTransitEnvelope = R"({
  "messageId": "50460000-adda-54e1-1fa3-08dc67547d10",
  "requestId": null,
  "correlationId": "7569172a-7c0e-44fb-a297-54bdebe6ce44",
  "conversationId": "50460000-adda-54e1-c760-08dc67547d15",
  "initiatorId": null,
  "sourceAddress": "rabbitmq://localhost/loan-origination",
  "destinationAddress": "rabbitmq://localhost/IntelliFin.Contracts:LoanApplicationCreated",
  "responseAddress": null,
  "faultAddress": null,
  "messageType": ["urn:message:IntelliFin.Contracts:LoanApplicationCreated",
                  "urn:message:IntelliFin.Contracts:ILoanEvent"],
  "message": {"ApplicationId": "A-1", "requestedAmount": 1500.5, "customerPhone": "+260971234567"},
  "expirationTime": null,
  "sentTime": "2024-04-28T07:26:15.2890275Z",
  "headers": {"MT-Activity-Id": "00-abc-01", "retry": 2},
  "host": {"machineName": "LOANS-1", "processName": "Loans", "processId": 18000}
})";

TEST(Envelope, DecodesMassTransitEnvelope) {
  const Envelope e = decode_envelope(kMassTransitEnvelope);
  EXPECT_EQ(e.message_id, "50460000-adda-54e1-1fa3-08dc67547d10");
  EXPECT_EQ(e.request_id, "");
  EXPECT_EQ(e.correlation_id, "7569172a-7c0e-44fb-a297-54bdebe6ce44");
  EXPECT_EQ(e.conversation_id, "50460000-adda-54e1-c760-08dc67547d15");
  EXPECT_EQ(e.source_address, "rabbitmq://localhost/loan-origination");
  ASSERT_EQ(e.message_type.size(), 2u);
  EXPECT_EQ(e.type_name(), "LoanApplicationCreated");
  EXPECT_EQ(e.sent_time, "2024-04-28T07:26:15.2890275Z");
  EXPECT_EQ(e.headers.at("MT-Activity-Id"), "00-abc-01");
  EXPECT_EQ(e.headers.at("retry"), "2");
  EXPECT_EQ(json::parse(e.host_json).at("machineName"), "LOANS-1");
  const json::value m = json::parse(e.message);
  EXPECT_EQ(m.at("ApplicationId"), "A-1");
}

TEST(Envelope, RoundTrips) {
  const Envelope a = decode_envelope(kMassTransitEnvelope);
  const std::string text = encode_envelope(a);
  const Envelope b = decode_envelope(text);
  EXPECT_EQ(b.message_id, a.message_id);
  EXPECT_EQ(b.correlation_id, a.correlation_id);
  EXPECT_EQ(b.conversation_id, a.conversation_id);
  EXPECT_EQ(b.source_address, a.source_address);
  EXPECT_EQ(b.destination_address, a.destination_address);
  EXPECT_EQ(b.message_type, a.message_type);
  EXPECT_EQ(json::parse(b.message), json::parse(a.message));
  EXPECT_EQ(b.sent_time, a.sent_time);
  EXPECT_EQ(b.headers.at("MT-Activity-Id"), "00-abc-01");
  EXPECT_EQ(json::parse(b.host_json), json::parse(a.host_json));
  // MassTransit writes absent ids as null and keeps every envelope field.
  const json::object o = json::parse(text).as_object();
  EXPECT_TRUE(o.at("requestId").is_null());
  for (const char* k : {"messageId", "requestId", "correlationId", "conversationId", "initiatorId",
                        "sourceAddress", "destinationAddress", "responseAddress", "faultAddress",
                        "messageType", "message", "expirationTime", "sentTime", "headers", "host"})
    EXPECT_TRUE(o.contains(k)) << k;
}

TEST(Envelope, FieldNamesAreCaseInsensitive) {
  const Envelope e = decode_envelope(
      R"({"MessageId":"m1","MessageType":["urn:message:Ns:T"],"Message":{"a":1},"CorrelationId":"c"})");
  EXPECT_EQ(e.message_id, "m1");
  EXPECT_EQ(e.correlation_id, "c");
  EXPECT_EQ(e.type_name(), "T");
  EXPECT_EQ(e.host_json, "{}");
}

TEST(Envelope, ContentTypes) {
  const std::string body = R"({"messageType":["urn:message:Ns:T"],"message":{}})";
  EXPECT_NO_THROW(decode_envelope(body, "application/vnd.masstransit+json"));
  EXPECT_NO_THROW(decode_envelope(body, "Application/Vnd.MassTransit+JSON; charset=utf-8"));
  EXPECT_NO_THROW(decode_envelope(body, "application/json"));
  EXPECT_NO_THROW(decode_envelope(body, ""));
  try {
    decode_envelope(body, "text/plain");
    FAIL();
  } catch (const EnvelopeError& e) {
    EXPECT_NE(std::string(e.what()).find("text/plain"), std::string::npos);
  }
}

void expect_error(const std::string& body, const std::string& needle) {
  try {
    decode_envelope(body);
    FAIL() << "accepted: " << body;
  } catch (const EnvelopeError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Envelope, MalformedEnvelopesGiveClearErrors) {
  expect_error("{not json", "not valid JSON");
  expect_error("", "not valid JSON");
  expect_error("[1,2]", "must be a JSON object");
  expect_error(R"({"message":{}})", "messageType");
  expect_error(R"({"messageType":[],"message":{}})", "messageType");
  expect_error(R"({"messageType":"urn:message:Ns:T","message":{}})", "messageType");
  expect_error(R"({"messageType":[42],"message":{}})", "only strings");
  expect_error(R"({"messageType":["Ns.T"],"message":{}})", "urn:message");
  expect_error(R"({"messageType":["urn:message:Ns:T"]})", "'message'");
  expect_error(R"({"messageType":["urn:message:Ns:T"],"message":"x"})", "'message'");
  expect_error(R"({"messageType":["urn:message:Ns:T"],"message":{},"messageId":7})", "messageId");
  expect_error(R"({"messageType":["urn:message:Ns:T"],"message":{},"headers":[1]})", "headers");
  std::string deep(200, '[');
  expect_error(R"({"messageType":["urn:message:Ns:T"],"message":{"a":)" + deep + "}}", "not valid JSON");
}

TEST(Envelope, EncodeRejectsNonObjectMessage) {
  Envelope e;
  e.message_type = {"urn:message:Ns:T"};
  e.message = "[1]";
  EXPECT_THROW(encode_envelope(e), EnvelopeError);
}

TEST(Urn, TypeNameExtraction) {
  EXPECT_EQ(message_urn("IntelliFin.Contracts", "NotificationSent"),
            "urn:message:IntelliFin.Contracts:NotificationSent");
  EXPECT_EQ(type_from_urn("urn:message:IntelliFin.Contracts:LoanDisbursed"), "LoanDisbursed");
  EXPECT_EQ(type_from_urn("URN:MESSAGE:Ns:T"), "T");
  EXPECT_EQ(type_from_urn("urn:message:Ns:Outer+Inner"), "Outer+Inner");
  EXPECT_EQ(type_from_urn("urn:message:Ns:Batch[[urn:message:Ns2:Item]]"), "Batch[[urn:message:Ns2:Item]]");
  EXPECT_EQ(type_from_urn("urn:message:T"), "");
  EXPECT_EQ(type_from_urn("urn:message:Ns:"), "");
  EXPECT_EQ(type_from_urn("LoanDisbursed"), "");
  EXPECT_EQ(type_from_urn(""), "");
  Envelope e;
  e.message_type = {"garbage", "urn:message:Ns:Second"};
  EXPECT_EQ(e.type_name(), "Second");
}

TEST(FindCi, MatchesIgnoringCase) {
  const json::object o =
      json::parse(R"({"CustomerPhone":"+260971234567","customerId":"c1","ID":1,"id":2})").as_object();
  ASSERT_NE(find_ci(o, "customerPhone"), nullptr);
  EXPECT_EQ(*find_ci(o, "customerphone"), "+260971234567");
  EXPECT_EQ(*find_ci(o, "CUSTOMERID"), "c1");
  EXPECT_EQ(*find_ci(o, "id"), 2);  // an exact match wins
  EXPECT_EQ(*find_ci(o, "ID"), 1);
  EXPECT_EQ(*find_ci(o, "Id"), 1);  // else the first case-insensitive match
  EXPECT_EQ(find_ci(o, "missing"), nullptr);
  EXPECT_EQ(find_ci(o, "customerPhon"), nullptr);
  ASSERT_NE(find_string_ci(o, "customerid"), nullptr);
  EXPECT_EQ(find_string_ci(o, "id"), nullptr);  // not a string
}

TEST(HostInfo, HasMassTransitFields) {
  const json::object& h = host_info();
  for (const char* k : {"machineName", "processName", "processId", "assembly", "assemblyVersion",
                        "frameworkVersion", "massTransitVersion", "operatingSystemVersion"})
    EXPECT_TRUE(h.contains(k)) << k;
  EXPECT_GT(h.at("processId").as_int64(), 0);
}

}  // namespace
}  // namespace comms::bus
