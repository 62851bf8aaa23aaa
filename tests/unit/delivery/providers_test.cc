#include "delivery/providers.h"

#include <gtest/gtest.h>

#include "common/metrics.h"
#include "delivery/devinbox/devinbox_channel.h"
#include "delivery/resilience/provider_router.h"
#include "run_coro.h"
#include "store/store.h"

namespace comms::delivery {
namespace {

using namespace std::chrono_literals;

class ProvidersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::StoreOptions so;
    so.url = ":memory:";
    store_ = store::open_store(so);
  }
  void TearDown() override { store_->close(); }
  static ProvidersOptions with_sms() {
    ProvidersOptions o;
    o.africastalking.username = "sandbox";
    o.africastalking.api_key = "k";
    o.africastalking.base_url = "http://127.0.0.1:1";
    o.kannel.url = "http://127.0.0.1:1";
    return o;
  }
  metrics::Registry registry_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ProvidersTest, NothingConfiguredMeansTheDevInboxEverywhere) {
  const auto p = build_providers({}, registry_, *store_);
  EXPECT_TRUE(p.dev_inbox_used);
  EXPECT_TRUE(p.providers.empty());
  ASSERT_EQ(p.channels.size(), 3u);
  for (const auto& [ch, channel] : p.channels) EXPECT_TRUE(dynamic_cast<DevInboxChannel*>(channel.get()));
  EXPECT_TRUE(p.monitor->snapshot().empty());
}

TEST_F(ProvidersTest, SmsRoutesAfricasTalkingThenKannel) {
  const auto p = build_providers(with_sms(), registry_, *store_);
  auto* sms = dynamic_cast<ProviderRouter*>(p.channels.at(domain::Channel::sms).get());
  ASSERT_TRUE(sms);
  ASSERT_EQ(sms->routes().size(), 2u);
  EXPECT_EQ(sms->routes()[0].provider->name(), "africastalking");
  EXPECT_EQ(sms->routes()[1].provider->name(), "kannel");
  EXPECT_TRUE(dynamic_cast<DevInboxChannel*>(p.channels.at(domain::Channel::email).get()));
  EXPECT_TRUE(p.dev_inbox_used);
  const auto snap = p.monitor->snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].priority, 1);
  EXPECT_EQ(snap[1].priority, 2);
  EXPECT_NE(registry_.render().find("comms_provider_breaker_state{provider=\"kannel\"} 0"),
            std::string::npos);
  p.stop();
}

TEST_F(ProvidersTest, DevInboxModes) {
  auto o = with_sms();
  o.dev_inbox = DevInboxMode::always;
  const auto always = build_providers(o, registry_, *store_);
  EXPECT_TRUE(always.providers.empty());
  EXPECT_TRUE(dynamic_cast<DevInboxChannel*>(always.channels.at(domain::Channel::sms).get()));
  ProvidersOptions none;
  none.dev_inbox = DevInboxMode::never;
  const auto never = build_providers(none, registry_, *store_);
  EXPECT_TRUE(never.channels.empty());
  EXPECT_FALSE(never.dev_inbox_used);
}

TEST_F(ProvidersTest, InconsistentOptionsNameTheKey) {
  auto expect_key = [&](const ProvidersOptions& o, const std::string& key) {
    try {
      build_providers(o, registry_, *store_);
      ADD_FAILURE() << "no error for " << key;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  ProvidersOptions o;
  o.africastalking.username = "u";
  expect_key(o, "COMMS_AT_API_KEY");
  o = {};
  o.kannel.url = "http://gw:13013";
  o.kannel.dlr_url = "http://comms:8080";
  expect_key(o, "COMMS_KANNEL_CALLBACK_TOKEN");
  o = {};
  o.smtp.url = "mail.example.com:25";
  o.smtp.from = "a@b.zm";
  expect_key(o, "COMMS_SMTP_URL");
  o = {};
  o.kannel.url = "gw:13013";
  expect_key(o, "COMMS_KANNEL_URL");
  o = {};
  o.smtp.url = "smtp://comms:secret@mail:587";
  o.smtp.from = "a@b.zm";
  expect_key(o, "COMMS_SMTP_USERNAME");
}

TEST_F(ProvidersTest, StoppedProvidersSendNothing) {
  const auto p = build_providers(with_sms(), registry_, *store_);
  p.stop();
  p.stop();
  Outgoing m;
  m.notification_id = "n1";
  m.to = "+260971234567";
  m.text = "x";
  const auto r = test::run_coro(p.channels.at(domain::Channel::sms)->send(m));
  EXPECT_EQ(r.kind, SendResult::Kind::transient);
  EXPECT_NE(r.error.find("shutting down"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace comms::delivery
