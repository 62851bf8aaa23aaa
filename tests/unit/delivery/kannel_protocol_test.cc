#include "delivery/sms/kannel/kannel_protocol.h"

#include <gtest/gtest.h>

namespace comms::delivery::kannel {
namespace {

TEST(KannelReply, AcceptsQueuedAndAccepted) {
  EXPECT_EQ(classify_reply(202, "0: Accepted for delivery").fault, Fault::none);
  EXPECT_EQ(classify_reply(202, "3: Queued for later delivery\n").fault, Fault::none);
  EXPECT_EQ(classify_reply(202, "0: Accepted for delivery").result.kind, SendResult::Kind::ok);
}

TEST(KannelReply, ClassifiesFailures) {
  const auto auth = classify_reply(403, "Authorization failed for sendsms");
  EXPECT_EQ(auth.fault, Fault::rejected);
  EXPECT_EQ(auth.alert, "kannel_auth");
  EXPECT_EQ(auth.result.error, "HTTP 403: Authorization failed for sendsms");
  EXPECT_EQ(classify_reply(400, "Missing receiver number").fault, Fault::rejected);
  EXPECT_EQ(classify_reply(503, "Sending failed.").fault, Fault::unavailable);
  EXPECT_EQ(classify_reply(500, "").result.kind, SendResult::Kind::transient);
  EXPECT_EQ(classify_reply(504, "").fault, Fault::ambiguous);
  EXPECT_EQ(classify_reply(202, "4: something new").fault, Fault::ambiguous) << "unknown success reply";
}

TEST(KannelUrl, CarriesEveryParameterEncoded) {
  SendSms s;
  s.base_url = "http://127.0.0.1:13013/";
  s.username = "tester";
  s.password = "p&ss word";
  s.from = "IntelliFin";
  s.to = "+260971234567";
  s.text = "Pay K100 today";
  s.dlr_url = dlr_callback_url("http://comms:8080/", "tok", "abc-123");
  EXPECT_EQ(s.dlr_url,
            "http://comms:8080/api/v1/callbacks/kannel/delivery?token=tok&id=abc-123&type=%d&reply=%A");
  EXPECT_EQ(
      sendsms_url(s),
      "http://127.0.0.1:13013/cgi-bin/sendsms?username=tester&password=p%26ss+word&to=%2B260971234567"
      "&text=Pay+K100+today&charset=UTF-8&coding=0&from=IntelliFin&dlr-mask=31&dlr-url="
      "http%3A%2F%2Fcomms%3A8080%2Fapi%2Fv1%2Fcallbacks%2Fkannel%2Fdelivery%3Ftoken%3Dtok%26id%3Dabc-123"
      "%26type%3D%25d%26reply%3D%25A");
  s.text = "Muli shani? Ndalama: ₭ 😀";
  s.dlr_url.clear();
  const auto url = sendsms_url(s);
  EXPECT_NE(url.find("coding=2"), std::string::npos);
  EXPECT_EQ(url.find("dlr-url"), std::string::npos);
}

TEST(KannelGsm, DetectsTheGsmAlphabet) {
  EXPECT_TRUE(is_gsm7("Hello, K100.50 due 2026-11-27 @ branch {1} [x] ~ € ü"));
  EXPECT_FALSE(is_gsm7("Emoji 😀"));
  EXPECT_FALSE(is_gsm7("Ĉu"));
  EXPECT_FALSE(is_gsm7("bad \xC3"));
  EXPECT_TRUE(is_gsm7(""));
}

TEST(KannelDlr, MapsReportTypes) {
  using K = ReportMeaning::Kind;
  EXPECT_EQ(classify_dlr(1, "").kind, K::delivered);
  EXPECT_EQ(classify_dlr(2, "NACK/0x0000000b").kind, K::failed);
  EXPECT_EQ(classify_dlr(2, "NACK/0x0000000b").reason, "delivery failed: NACK/0x0000000b");
  EXPECT_EQ(classify_dlr(4, "").kind, K::progress);
  EXPECT_EQ(classify_dlr(8, "ACK/").kind, K::progress);
  EXPECT_EQ(classify_dlr(16, "").reason, "rejected by SMSC");
  EXPECT_EQ(classify_dlr(3, "").kind, K::unknown);
}

}  // namespace
}  // namespace comms::delivery::kannel
