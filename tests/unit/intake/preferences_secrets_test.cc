#include <thread>

#include "delivery/devinbox/devinbox_channel.h"
#include "intake/secret_delivery.h"
#include "intake_fixture.h"

namespace comms::intake::testing {
namespace {

// "HH:MM" in Lusaka (UTC+2) `offset_minutes` from now.
std::string lusaka_hhmm(int offset_minutes) {
  const Millis t = now_ms() + (120 + offset_minutes) * 60'000LL;
  const int minute_of_day = static_cast<int>((t / 60'000) % (24 * 60));
  const auto two = [](int v) { return std::string(1, char('0' + v / 10)) + char('0' + v % 10); };
  return two(minute_of_day / 60) + ":" + two(minute_of_day % 60);
}

constexpr std::string_view kPayment =
    R"({"paymentId": "P1", "loanId": "L1", "customerId": "cust-1", "amount": 10,
  "paymentDate": "2026-03-01T10:00:00Z", "branchId": "b", "customerName": "M", "customerPhone": "+260971234567"})";

constexpr std::string_view kOtp = R"({"userId": "cust-1", "otpCode": "735194", "purpose": "login",
  "phone": "+260971234567"})";

class PreferencesSecretsTest : public IntakeFixture {
 protected:
  void prefs(store::RecipientPreferences p) {
    p.recipient_id = "cust-1";
    run(intake_->preferences().put(std::move(p)));
  }
};

TEST_F(PreferencesSecretsTest, ReadsGoThroughTheCacheAndWritesInvalidateIt) {
  auto p = run(intake_->preferences().get("cust-1"));
  EXPECT_EQ(p.version, 0);  // defaults
  EXPECT_TRUE(cache_.l1().get(PreferenceService::cache_key("cust-1")));
  store::RecipientPreferences change;
  change.opted_out_channels = {"sms"};
  prefs(change);
  EXPECT_FALSE(cache_.l1().get(PreferenceService::cache_key("cust-1")));
  p = run(intake_->preferences().get("cust-1"));
  EXPECT_EQ(p.version, 1);
  EXPECT_EQ(p.opted_out_channels, std::vector<std::string>{"sms"});
  // A stale version is a conflict.
  change.version = 7;
  EXPECT_THROW(prefs(change), store::ConflictError);
}

TEST_F(PreferencesSecretsTest, OptedOutChannelsAndCategoriesAreSkipped) {
  store::RecipientPreferences p;
  p.opted_out_channels = {"sms"};
  prefs(p);
  auto r = post("PaymentReceived", std::string(kPayment));
  EXPECT_TRUE(r.executed.created.empty());
  ASSERT_EQ(r.executed.skipped.size(), 1u);
  EXPECT_EQ(r.executed.skipped[0].reason, "channel_opted_out");
  p.opted_out_channels.clear();
  p.opted_out_categories = {"collections"};
  prefs(p);
  r = post("PaymentReceived", std::string(kPayment));
  ASSERT_EQ(r.executed.skipped.size(), 1u);
  EXPECT_EQ(r.executed.skipped[0].reason, "category_opted_out");
}

TEST_F(PreferencesSecretsTest, QuietHoursDeferButCriticalBypassesEverything) {
  store::RecipientPreferences p;
  p.quiet_start = lusaka_hhmm(-60);
  p.quiet_end = lusaka_hhmm(60);
  p.timezone = "Africa/Lusaka";
  p.opted_out_channels = {"email"};
  p.language = "bem";
  prefs(p);
  const Millis before = now_ms();
  auto r = post("PaymentReceived", std::string(kPayment));
  ASSERT_EQ(r.executed.created.size(), 1u);
  const auto& n = r.executed.created[0];
  EXPECT_EQ(n.status, domain::Status::pending);
  EXPECT_GT(n.next_attempt_at, before + 55 * 60'000);  // deferred to the end of the quiet period
  EXPECT_LT(n.next_attempt_at, before + 65 * 60'000);
  EXPECT_EQ(n.locale, "bem");

  p.opted_out_channels = {"sms"};
  prefs(p);
  r = post("OtpRequested", std::string(kOtp));
  ASSERT_EQ(r.executed.created.size(), 1u);
  EXPECT_TRUE(r.executed.created[0].critical);
  EXPECT_LE(r.executed.created[0].next_attempt_at, now_ms());
}

class CapturingChannel final : public delivery::Channel {
 public:
  boost::asio::awaitable<delivery::SendResult> send(const delivery::Outgoing& m) override {
    sent.push_back(m);
    co_return delivery::SendResult::ok_from("capture");
  }
  std::vector<delivery::Outgoing> sent;
};

TEST_F(PreferencesSecretsTest, TheOtpCodeIsNeverStoredInClearButReachesTheProvider) {
  const auto r = post("OtpRequested", std::string(kOtp));
  ASSERT_EQ(r.executed.created.size(), 1u);
  const auto& n = r.executed.created[0];
  EXPECT_EQ(n.content, "Your IntelliFin verification code is ******. Do not share it with anyone.");
  EXPECT_EQ(n.personalization.find("735194"), std::string::npos);

  // The dispatcher's view: render (stored text), then send through the channel.
  delivery::LiteralRenderer literal;
  auto renderer = intake_->secret_renderer(literal);
  auto capture = std::make_shared<CapturingChannel>();
  delivery::Channels channels{{domain::Channel::sms, capture},
                              {domain::Channel::email, std::make_shared<delivery::DevInboxChannel>()}};
  intake_->reveal_secrets(channels);
  EXPECT_NE(channels[domain::Channel::sms], capture);  // wrapped
  EXPECT_TRUE(
      dynamic_cast<delivery::DevInboxChannel*>(channels[domain::Channel::email].get()));  // not wrapped

  const auto out = run(renderer->render(n, nullptr));
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.text, "Your IntelliFin verification code is ******. Do not share it with anyone.");
  run(channels[domain::Channel::sms]->send(out.message));
  ASSERT_EQ(capture->sent.size(), 1u);
  EXPECT_EQ(capture->sent[0].text,
            "Your IntelliFin verification code is 735194. Do not share it with anyone.");
  EXPECT_EQ(capture->sent[0].to, "+260971234567");

  // What the dispatcher stores after the send.
  write([&](store::UnitOfWork& uow) {
    auto row = uow.notifications().get(n.id);
    row->content = out.message.text;
    row->status = domain::Status::sending;
    uow.notifications().update(*row);
  });
  store_->close();
  store_ = store::open_store({.url = "sqlite:" + (dir_ / "comms.db").string()});
  EXPECT_EQ(db_bytes().find("735194"), std::string::npos);
}

TEST_F(PreferencesSecretsTest, ASecretSealedByAnotherKeyFailsTheRenderClearly) {
  const auto r = post("OtpRequested", std::string(kOtp));
  make_intake({.secrets_key = std::string(64, '8')});
  delivery::LiteralRenderer literal;
  auto renderer = intake_->secret_renderer(literal);
  const auto out = run(renderer->render(r.executed.created[0], nullptr));
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("COMMS_SECRETS_KEY"), std::string::npos);
}

TEST(Sealer, RoundTripTamperAndKeys) {
  const Sealer a(std::string(64, 'a')), b(std::string(64, 'b')), eph("");
  EXPECT_TRUE(eph.ephemeral());
  const auto t = a.seal("123456");
  EXPECT_TRUE(Sealer::is_token(t));
  EXPECT_NE(t, a.seal("123456"));  // a fresh nonce each time
  EXPECT_EQ(a.open(t), "123456");
  EXPECT_FALSE(b.open(t));
  auto tampered = t;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(a.open(tampered));
  EXPECT_FALSE(a.open("sealed:v1:!!"));
  EXPECT_THROW(Sealer("abc"), std::invalid_argument);
  EXPECT_THROW(Sealer(std::string(64, 'z')), std::invalid_argument);
  const auto json = R"({"otpCode":")" + t + R"(","n":1})";
  EXPECT_EQ(reveal_json(json, a, Reveal::masked), R"({"otpCode":"******","n":1})");
  EXPECT_EQ(reveal_json(json, a, Reveal::clear), R"({"otpCode":"123456","n":1})");
  EXPECT_FALSE(reveal_json(json, b, Reveal::clear));
}

TEST(SecretVault, EntriesAreTakenOnceAndExpire) {
  SecretVault v(std::chrono::milliseconds(0));
  delivery::Outgoing m;
  m.text = "x";
  v.put("n-1", m);
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  v.put("n-2", m);  // sweeps n-1 (older than the ttl of 0)
  EXPECT_FALSE(v.take("n-1"));
  SecretVault keep;
  keep.put("n-1", m);
  EXPECT_TRUE(keep.take("n-1"));
  EXPECT_FALSE(keep.take("n-1"));
}

}  // namespace
}  // namespace comms::intake::testing
