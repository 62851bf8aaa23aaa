// The SMTP adapter against a real SMTP server (aiosmtpd, tests/peers/smtp_capture.py).
#include "delivery/email/smtp/smtp_provider.h"

#include <gtest/gtest.h>

#include "fake_peer.h"
#include "run_coro.h"

namespace comms::delivery {
namespace {

using namespace std::chrono_literals;

Outgoing mail(std::string id, std::string to) {
  Outgoing m;
  m.notification_id = std::move(id);
  m.channel = domain::Channel::email;
  m.to = std::move(to);
  m.subject = "Statement — November";
  m.text = "Your statement is ready.";
  m.html = "<p>Your statement is <b>ready</b>.</p>";
  return m;
}

std::vector<boost::json::object> captured(const std::filesystem::path& dir, std::size_t want) {
  std::vector<boost::json::object> out;
  for (int i = 0; i < 100 && out.size() < want; ++i) {
    out.clear();
    std::vector<std::filesystem::path> files;
    if (std::filesystem::exists(dir))
      for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) out.push_back(boost::json::parse(test::read_file(f)).as_object());
    if (out.size() < want) std::this_thread::sleep_for(50ms);
  }
  return out;
}

class SmtpProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::CliPeer::available()) GTEST_SKIP() << "tests/integration/peers.py not available";
  }
};

TEST_F(SmtpProviderTest, StartTlsAuthAndConnectionReuse) {
  test::CliPeer smtp("smtp", {"--tls", "starttls", "--auth"});
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + smtp["COMMS_TEST_SMTP_PORT"];
  o.username = "comms";
  o.password = "smtp-secret";
  o.from = "IntelliFin <no-reply@intellifin.co.zm>";
  o.starttls = StartTls::required;
  o.ca_file = smtp["COMMS_TEST_SMTP_CA_FILE"];
  o.concurrency = 1;
  SmtpProvider p(o, 5000ms);
  for (int i = 0; i < 3; ++i) {
    const auto r = test::run_coro(p.send(mail("n-" + std::to_string(i), "customer@example.com")));
    ASSERT_EQ(r.fault, Fault::none) << r.result.error;
    EXPECT_EQ(r.result.provider_message_id, "n-" + std::to_string(i) + "@intellifin.co.zm");
  }
  const auto got = captured(smtp["COMMS_TEST_SMTP_MAIL_DIR"], 3);
  ASSERT_EQ(got.size(), 3u);
  for (const auto& m : got) {
    EXPECT_EQ(m.at("mail_from"), "no-reply@intellifin.co.zm");
    EXPECT_EQ(m.at("auth_login"), "comms");
    EXPECT_TRUE(m.at("tls").as_bool());
  }
  EXPECT_EQ(got[0].at("peer"), got[2].at("peer")) << "one SMTP session for consecutive messages";
}

TEST_F(SmtpProviderTest, WrongPasswordIsPermanentWithAnAlert) {
  test::CliPeer smtp("smtp", {"--tls", "starttls", "--auth"});
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + smtp["COMMS_TEST_SMTP_PORT"];
  o.username = "comms";
  o.password = "nope";
  o.from = "no-reply@intellifin.co.zm";
  o.starttls = StartTls::required;
  o.ca_file = smtp["COMMS_TEST_SMTP_CA_FILE"];
  SmtpProvider p(o, 5000ms);
  const auto r = test::run_coro(p.send(mail("n-1", "customer@example.com")));
  EXPECT_EQ(r.fault, Fault::rejected) << r.result.error;
  EXPECT_EQ(r.alert, "smtp_auth");
}

TEST_F(SmtpProviderTest, RequiredStartTlsThatIsNotOfferedIsPermanent) {
  test::CliPeer smtp("smtp");
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + smtp["COMMS_TEST_SMTP_PORT"];
  o.from = "no-reply@intellifin.co.zm";
  o.starttls = StartTls::required;
  SmtpProvider p(o, 5000ms);
  const auto r = test::run_coro(p.send(mail("n-1", "customer@example.com")));
  EXPECT_EQ(r.fault, Fault::rejected) << r.result.error;
  EXPECT_EQ(r.alert, "smtp_starttls");
}

TEST_F(SmtpProviderTest, PlainSmtpAndInvalidAddress) {
  test::CliPeer smtp("smtp");
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + smtp["COMMS_TEST_SMTP_PORT"];
  o.from = "no-reply@intellifin.co.zm";
  SmtpProvider p(o, 5000ms);
  EXPECT_EQ(test::run_coro(p.send(mail("n-1", "customer@example.com"))).fault, Fault::none);
  EXPECT_EQ(test::run_coro(p.send(mail("n-2", "bad address@example.com"))).fault, Fault::rejected);
}

TEST(SmtpProviderOptions, RejectsBadConfiguration) {
  SmtpOptions o;
  o.url = "http://mail";
  o.from = "a@b.zm";
  EXPECT_THROW(SmtpProvider(o, 1000ms), std::invalid_argument);
  o.url = "smtp://mail:25";
  o.from = "nobody";
  EXPECT_THROW(SmtpProvider(o, 1000ms), std::invalid_argument);
}

}  // namespace
}  // namespace comms::delivery
