#include "templating/defaults.h"

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "domain/sms_encoding.h"
#include "templates/helpers.h"
#include "templating/template_renderer.h"
#include "unit/templating/fixture.h"

namespace comms::templating {
namespace {

using domain::Channel;

std::string key(const std::string& category, const std::string& name, Channel channel, const std::string& locale) {
  return category + "/" + name + "/" + std::string(domain::to_string(channel)) + "/" + locale;
}

std::set<std::string> default_keys() {
  std::set<std::string> out;
  for (const auto& f : default_templates()) out.insert(key(f.category, f.name, f.channel, f.locale));
  return out;
}

TEST(DefaultTemplates, AreEmbeddedAndValid) {
  const auto files = default_template_files();
  ASSERT_GE(files.size(), 20u);
  EXPECT_EQ(files.size(), default_templates().size());  // every file parses, compiles and follows the rules
  EXPECT_EQ(default_keys().size(), files.size());       // no key twice
}

TEST(DefaultTemplates, CoverEveryRuleInEnglish) {
  const auto rules_path = std::filesystem::path(__FILE__).parent_path() / "../../../config/rules.json";
  std::ifstream in(rules_path);
  ASSERT_TRUE(in) << rules_path;
  std::stringstream text;
  text << in.rdbuf();
  const auto keys = default_keys();
  int checked = 0;
  const auto doc = boost::json::parse(text.str());
  for (const auto& [event, rules] : doc.at("events").as_object()) {
    for (const auto& rule : rules.at("notifications").as_array()) {
      const auto& t = rule.at("template");
      for (const auto& ch : rule.at("channels").as_array()) {
        const auto k = key(std::string(t.at("category").as_string()), std::string(t.at("name").as_string()),
                           *domain::parse_channel(std::string(ch.as_string())), "en");
        EXPECT_TRUE(keys.count(k)) << "no English default for " << k << " (" << event << ")";
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 15);
}

TEST(DefaultTemplates, HaveBembaAndNyanjaForTheCustomerSms) {
  const auto keys = default_keys();
  for (const auto& [category, name] : std::vector<std::pair<std::string, std::string>>{
           {"otp", "otp"},
           {"collections", "repayment-due"},
           {"collections", "payment-received"},
           {"collections", "payment-overdue"}}) {
    for (const char* locale : {"en", "bem", "ny"})
      EXPECT_TRUE(keys.count(key(category, name, Channel::sms, locale))) << category << "/" << name << " " << locale;
  }
}

TEST(DefaultTemplates, SmsFitTheirSegmentLimitWithRealisticData) {
  const auto data = boost::json::parse(R"({
    "customerName": "Mwansa Chilufya Bwalya", "applicationId": "APP-2026-000123", "loanId": "LN-2026-000123",
    "productType": "SME Working Capital", "requestedAmount": 250000, "approvedAmount": 250000,
    "monthlyInstallment": 12500.5, "disbursedAmount": 250000, "disbursementDate": "2026-03-15",
    "accountNumber": "0012345678", "amountDue": 12500.5, "dueDate": "2026-09-30", "amount": 12500.5,
    "paymentDate": "2026-09-29T10:00:00Z", "outstandingBalance": 187500.25, "amountOverdue": 12500.5,
    "daysOverdue": 29, "otpCode": "735194", "expiryMinutes": 10})");
  int checked = 0;
  for (const auto& f : default_templates()) {
    if (f.channel != Channel::sms) continue;
    EXPECT_GE(f.content.max_segments, 1) << f.source;
    EXPECT_LE(f.content.max_segments, 2) << f.source;
    std::string error;
    const auto compiled = compile_content(f.content, error);
    const auto helpers = templates::default_helpers(f.locale, "Africa/Lusaka");
    const auto out = render_parts(*compiled, Channel::sms, data, helpers, f.source);
    EXPECT_TRUE(out.ok) << out.error;
    const auto sms = domain::analyze_sms(out.text);
    EXPECT_EQ(sms.encoding, domain::SmsCharset::gsm7) << f.source << ": " << out.text;
    EXPECT_EQ(out.text.find("{{"), std::string::npos) << out.text;
    ++checked;
  }
  EXPECT_GE(checked, 12);
}

TEST(DefaultTemplates, TheEnglishOtpMatchesTheRulesFallbackText) {
  // Notifications accepted before the defaults were seeded show the same text once rendered.
  for (const auto& f : default_templates()) {
    if (f.category != "otp" || f.locale != "en") continue;
    std::string error;
    const auto out = render_parts(*compile_content(f.content, error), Channel::sms,
                                  boost::json::parse(R"({"otpCode":"******"})"),
                                  templates::default_helpers("en", ""), "otp");
    EXPECT_EQ(out.text, "Your IntelliFin verification code is ******. Do not share it with anyone.");
  }
}

class SeedTest : public testing::TemplatingFixture {
 protected:
  std::optional<store::TemplateRecord> find(const TemplateFile& f) {
    std::optional<store::TemplateRecord> out;
    read([&](store::UnitOfWork& uow) { out = uow.templates().find(f.category, f.name, f.channel, f.locale); });
    return out;
  }
};

TEST_F(SeedTest, CreatesOnceAndNeverOverridesAnOperator) {
  const auto defaults = default_templates();
  auto c = seed_defaults(*store_);
  EXPECT_EQ(c.created, static_cast<int>(defaults.size()));
  EXPECT_EQ(all_templates(*store_).size(), defaults.size());
  c = seed_defaults(*store_);
  EXPECT_EQ(c.created, 0);
  EXPECT_EQ(c.unchanged, static_cast<int>(defaults.size()));

  // An operator deletes one and edits another.
  auto deleted = find(defaults[0]);
  auto edited = find(defaults[1]);
  write([&](store::UnitOfWork& uow) {
    ASSERT_TRUE(uow.templates().remove(deleted->id));
    edited->active.body = "edited by ops";
    uow.templates().add_version(*edited, "ops");
  });
  c = seed_defaults(*store_);
  EXPECT_EQ(c.created, 0);
  EXPECT_FALSE(find(defaults[0]));
  EXPECT_EQ(find(defaults[1])->active.body, "edited by ops");

  // A new revision of both (a newer binary): the deleted stays deleted, the edited stays edited, an
  // untouched one is updated.
  auto next = std::vector<TemplateFile>{defaults[0], defaults[1], defaults[2]};
  for (auto& f : next) f.content.body += " (revised)";
  c = seed_templates(*store_, next);
  EXPECT_EQ(c.created, 0);
  EXPECT_EQ(c.kept, 2);
  EXPECT_EQ(c.updated, 1);
  EXPECT_FALSE(find(defaults[0]));
  EXPECT_EQ(find(defaults[1])->active.body, "edited by ops");
  const auto revised = find(defaults[2]);
  EXPECT_EQ(revised->active.body, defaults[2].content.body + " (revised)");
  EXPECT_EQ(revised->active_version, 2);
}

TEST_F(SeedTest, AnImportedTemplateIsNotReplacedBySeeding) {
  auto mine = default_templates()[0];
  mine.content.body = "ours";
  import_templates(*store_, {mine}, "import");
  const auto c = seed_defaults(*store_);
  EXPECT_EQ(c.kept, 1);
  EXPECT_EQ(find(mine)->active.body, "ours");
}

}  // namespace
}  // namespace comms::templating
