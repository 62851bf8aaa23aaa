// The Kannel adapter against a real Kannel (bearerbox + smsbox + the fakesmsc test SMSC).
#include "delivery/sms/kannel/kannel_provider.h"

#include <gtest/gtest.h>

#include <thread>

#include "fake_peer.h"
#include "run_coro.h"

namespace comms::delivery {
namespace {

using namespace std::chrono_literals;

class KannelProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::CliPeer::available() || !std::filesystem::exists("/usr/sbin/bearerbox"))
      GTEST_SKIP() << "Kannel or tests/integration/peers.py not available";
    kannel_ = std::make_unique<test::CliPeer>("kannel");
  }
  KannelOptions options() {
    KannelOptions o;
    std::string url = (*kannel_)["COMMS_TEST_KANNEL_SENDSMS_URL"];
    o.url = url.substr(0, url.find("/cgi-bin/"));
    o.username = (*kannel_)["COMMS_TEST_KANNEL_USERNAME"];
    o.password = (*kannel_)["COMMS_TEST_KANNEL_PASSWORD"];
    o.from = "IntelliFin";
    return o;
  }
  // fakesmsc's log lines for received messages.
  std::vector<std::string> received(std::size_t want) {
    std::vector<std::string> out;
    for (int i = 0; i < 100; ++i) {
      out.clear();
      std::istringstream in(test::read_file((*kannel_)["COMMS_TEST_KANNEL_FAKESMSC_LOG"]));
      for (std::string line; std::getline(in, line);)
        if (line.find("Got message ") != std::string::npos) out.push_back(line);
      if (out.size() >= want) break;
      std::this_thread::sleep_for(50ms);
    }
    return out;
  }
  static Outgoing msg(std::string id, std::string to, std::string text) {
    Outgoing m;
    m.notification_id = std::move(id);
    m.to = std::move(to);
    m.text = std::move(text);
    return m;
  }
  std::unique_ptr<test::CliPeer> kannel_;
};

TEST_F(KannelProviderTest, DeliversThroughTheGateway) {
  KannelProvider p(options(), 5000ms);
  const auto r = test::run_coro(p.send(msg("n-1", "+260971234567", "Your payment is due")));
  ASSERT_EQ(r.fault, Fault::none) << r.result.error;
  EXPECT_EQ(r.result.provider_message_id, "n-1");
  const auto got = received(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("+260971234567"), std::string::npos) << got[0];
  EXPECT_NE(got[0].find("text Your payment is due>"), std::string::npos) << got[0];
}

TEST_F(KannelProviderTest, SendsNonGsmTextAsUcs2) {
  KannelProvider p(options(), 5000ms);
  const auto r = test::run_coro(p.send(msg("n-2", "+260971234567", "Zikomo ✓")));
  ASSERT_EQ(r.fault, Fault::none) << r.result.error;
  const auto got = received(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("ucs-2"), std::string::npos) << got[0];
}

TEST_F(KannelProviderTest, WrongPasswordIsPermanentWithAnAlert) {
  auto o = options();
  o.password = "wrong";
  KannelProvider p(o, 5000ms);
  const auto r = test::run_coro(p.send(msg("n-3", "+260971234567", "x")));
  EXPECT_EQ(r.fault, Fault::rejected) << r.result.error;
  EXPECT_EQ(r.alert, "kannel_auth");
  EXPECT_EQ(r.result.error.find("wrong"), std::string::npos) << "no credentials in errors";
}

TEST_F(KannelProviderTest, GatewayDownIsUnavailable) {
  auto o = options();
  o.url = "http://127.0.0.1:1";
  KannelProvider p(o, 2000ms);
  EXPECT_EQ(test::run_coro(p.send(msg("n-4", "+260971234567", "x"))).fault, Fault::unavailable);
}

}  // namespace
}  // namespace comms::delivery
