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
  // Plain smtp:// to the peer; with `password`, STARTTLS required and AUTH as "comms".
  static SmtpOptions options(const test::CliPeer& smtp, const std::string& password = "") {
    SmtpOptions o;
    o.url = "smtp://127.0.0.1:" + smtp["COMMS_TEST_SMTP_PORT"];
    o.from = "IntelliFin <no-reply@intellifin.co.zm>";
    if (!password.empty()) {
      o.username = "comms";
      o.password = password;
      o.starttls = StartTls::required;
      o.ca_file = smtp["COMMS_TEST_SMTP_CA_FILE"];
    }
    return o;
  }
};

TEST_F(SmtpProviderTest, StartTlsAuthAndConnectionReuse) {
  test::CliPeer smtp("smtp", {"--tls", "starttls", "--auth"});
  auto o = options(smtp, "smtp-secret");
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

// The received bytes, parsed by an independent MIME implementation (Python's email package).
TEST_F(SmtpProviderTest, MultipartAlternativeAsAMailReaderSeesIt) {
  test::CliPeer smtp("smtp");
  auto o = options(smtp);
  o.from = "IntelliFin Loans <no-reply@intellifin.co.zm>";
  o.reply_to = "Care <care@intellifin.co.zm>";
  SmtpProvider p(o, 5000ms);
  auto m = mail("n-42", "mwansa@example.com");
  m.subject = "Malipiro anu alandiridwa — zikomo kwambiri! Ndalama: K 1 250,00 ✓ " + std::string(40, 'x');
  m.text = "Line one\n.dot line\n" + std::string(150, 'y') + "\nZikomo ✓";
  m.html = "<p>Zikomo ✓</p>\n<p>" + std::string(150, 'z') + "</p>";
  ASSERT_EQ(test::run_coro(p.send(m)).fault, Fault::none);
  const auto meta = captured(smtp["COMMS_TEST_SMTP_MAIL_DIR"], 1).at(0);
  const auto eml =
      std::filesystem::path(smtp["COMMS_TEST_SMTP_MAIL_DIR"]) / std::string(meta.at("eml").as_string());
  const std::string script =
      "import email, email.policy, json, sys\n"
      "m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)\n"
      "parts = [{'type': p.get_content_type(), 'charset': p.get_content_charset(),\n"
      "          'cte': p['Content-Transfer-Encoding'], 'content': p.get_content().replace('\\r\\n', '\\n')} "
      "for p in m.iter_parts()]\n"
      "print(json.dumps({'type': m.get_content_type(), 'subject': m['Subject'], 'from': m['From'],\n"
      "  'reply_to': m['Reply-To'], 'to': m['To'], 'message_id': m['Message-ID'], 'date': m['Date'],\n"
      "  'mime': m['MIME-Version'], 'defects': len(m.defects), 'parts': parts}))\n";
  const auto script_file = smtp.dir() / "parse.py";
  std::ofstream(script_file) << script;
  FILE* f =
      popen((std::string(test::python()) + " " + script_file.string() + " " + eml.string()).c_str(), "r");
  ASSERT_TRUE(f);
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  ASSERT_EQ(pclose(f), 0) << out;
  const auto j = boost::json::parse(out).as_object();
  EXPECT_EQ(j.at("type"), "multipart/alternative");
  EXPECT_EQ(j.at("subject").as_string(), m.subject);
  EXPECT_EQ(j.at("from"), "IntelliFin Loans <no-reply@intellifin.co.zm>");
  EXPECT_EQ(j.at("reply_to"), "Care <care@intellifin.co.zm>");
  EXPECT_EQ(j.at("to"), "mwansa@example.com");
  EXPECT_EQ(j.at("message_id"), "<n-42@intellifin.co.zm>");
  EXPECT_EQ(j.at("mime"), "1.0");
  EXPECT_EQ(j.at("defects"), 0);
  const auto& parts = j.at("parts").as_array();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].at("type"), "text/plain");
  EXPECT_EQ(parts[1].at("type"), "text/html");
  for (const auto& part : parts) {
    EXPECT_EQ(part.at("charset"), "utf-8");
    EXPECT_EQ(part.at("cte"), "quoted-printable");
  }
  EXPECT_EQ(parts[0].at("content").as_string(), m.text);
  EXPECT_EQ(parts[1].at("content").as_string(), m.html);
}

TEST_F(SmtpProviderTest, WrongPasswordIsPermanentWithAnAlert) {
  test::CliPeer smtp("smtp", {"--tls", "starttls", "--auth"});
  SmtpProvider p(options(smtp, "nope"), 5000ms);
  const auto r = test::run_coro(p.send(mail("n-1", "customer@example.com")));
  EXPECT_EQ(r.fault, Fault::rejected) << r.result.error;
  EXPECT_EQ(r.alert, "smtp_auth");
}

TEST_F(SmtpProviderTest, RequiredStartTlsThatIsNotOfferedIsPermanent) {
  test::CliPeer smtp("smtp");
  auto o = options(smtp);
  o.starttls = StartTls::required;
  SmtpProvider p(o, 5000ms);
  const auto r = test::run_coro(p.send(mail("n-1", "customer@example.com")));
  EXPECT_EQ(r.fault, Fault::rejected) << r.result.error;
  EXPECT_EQ(r.alert, "smtp_starttls");
}

TEST_F(SmtpProviderTest, PlainSmtpAndInvalidAddress) {
  test::CliPeer smtp("smtp");
  SmtpProvider p(options(smtp), 5000ms);
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
