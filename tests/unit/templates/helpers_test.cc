// The lending helpers, through templates as a caller uses them.
#include "templates/helpers.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "templates/template.h"

namespace comms::templates {
namespace {
namespace json = boost::json;

std::string run(const Lambdas& helpers, std::string_view src, std::string_view data,
                Escape e = Escape::none) {
  CompileResult r = compile(src);
  EXPECT_TRUE(r.ok()) << src;
  if (!r.ok()) return {};
  RenderOptions o;
  o.escape = e;
  o.lambdas = &helpers;
  return render(r.value(), json::parse(data), o);
}

class Helpers : public testing::Test {
 protected:
  Lambdas en_ = default_helpers("en", "Africa/Lusaka");
};

TEST_F(Helpers, MoneyFormatsKwacha) {
  auto money = [&](std::string_view amount_json) {
    return run(en_, "{{#money}}{{amount}}{{/money}}",
               std::string(R"({"amount":)") + std::string(amount_json) + "}");
  };
  EXPECT_EQ(money("1250"), "K 1,250.00");
  EXPECT_EQ(money("1250.5"), "K 1,250.50");
  EXPECT_EQ(money("0.5"), "K 0.50");
  EXPECT_EQ(money("1234567.891"), "K 1,234,567.89");
  EXPECT_EQ(money("999.995"), "K 1,000.00");
  EXPECT_EQ(money("-45.1"), "-K 45.10");
  EXPECT_EQ(money("-0.001"), "K 0.00");
  EXPECT_EQ(money(R"("12,500.25")"), "K 12,500.25");
  EXPECT_EQ(money(R"("100")"), "K 100.00");
  EXPECT_EQ(money(R"("n/a")"), "n/a");  // unreadable input passes through
  EXPECT_EQ(money("1e21"), "1e+21");
}

TEST_F(Helpers, MoneyIsTheSameInEveryLocale) {
  for (std::string_view loc : {"en", "bem", "ny", "bem_ZM", "ny-ZM", "fr"}) {
    EXPECT_EQ(run(default_helpers(loc, "Africa/Lusaka"), "{{#money}}{{a}}{{/money}}", R"({"a":1250})"),
              "K 1,250.00")
        << loc;
  }
}

TEST_F(Helpers, DatesInTheRecipientsZone) {
  // 2025-03-12T23:30:00Z is already 13 March in Lusaka (UTC+2).
  std::string data =
      R"({"t":"2025-03-12T23:30:00Z","ms":1741822200000,"d":"2025-03-12","o":"2025-03-12T23:30:00+01:00"})";
  EXPECT_EQ(run(en_, "{{#date}}{{t}}{{/date}}", data), "13 March 2025");
  EXPECT_EQ(run(en_, "{{#datetime}}{{t}}{{/datetime}}", data), "13 March 2025, 01:30");
  EXPECT_EQ(run(en_, "{{#time}}{{t}}{{/time}}", data), "01:30");
  EXPECT_EQ(run(en_, "{{#datetime}}{{ms}}{{/datetime}}", data), "13 March 2025, 01:30");  // epoch ms
  EXPECT_EQ(run(en_, "{{#datetime}}{{o}}{{/datetime}}", data), "13 March 2025, 00:30");
  EXPECT_EQ(run(en_, "{{#date}}{{d}}{{/date}}", data), "12 March 2025");  // a calendar date never shifts
  EXPECT_EQ(run(en_, "{{#datetime}}{{d}}{{/datetime}}", data), "12 March 2025, 00:00");
  Lambdas utc = default_helpers("en", "UTC");
  EXPECT_EQ(run(utc, "{{#datetime}}{{t}}{{/datetime}}", data), "12 March 2025, 23:30");
  EXPECT_EQ(run(en_, "{{#date}}next week{{/date}}", "{}"), "next week");
  EXPECT_EQ(run(en_, "{{#date}}2025-02-30{{/date}}", "{}"), "2025-02-30");
}

TEST_F(Helpers, MonthNamesPerLocale) {
  std::string data = R"({"d":"2025-08-01"})";
  EXPECT_EQ(run(default_helpers("bem", "Africa/Lusaka"), "{{#date}}{{d}}{{/date}}", data), "1 Ogasti 2025");
  EXPECT_EQ(run(default_helpers("ny", "Africa/Lusaka"), "{{#date}}{{d}}{{/date}}", data), "1 Ogasiti 2025");
  EXPECT_EQ(run(default_helpers("xx", "Africa/Lusaka"), "{{#date}}{{d}}{{/date}}", data), "1 August 2025");
}

TEST_F(Helpers, UnknownZoneFallsBackToLusaka) {
  EXPECT_EQ(run(default_helpers("en", "Mars/Olympus"), "{{#time}}2025-01-01T10:00Z{{/time}}", "{}"), "12:00");
  EXPECT_EQ(run(default_helpers("en", "../../etc/passwd"), "{{#time}}2025-01-01T10:00Z{{/time}}", "{}"),
            "12:00");
}

TEST_F(Helpers, MaskKeepsLastFour) {
  std::string data =
      R"({"acc":"0012345678","phone":"+260971234567","spaced":"ACC-0012-3456","short":"1234"})";
  EXPECT_EQ(run(en_, "{{#mask}}{{acc}}{{/mask}}", data), "******5678");
  EXPECT_EQ(run(en_, "{{#mask}}{{phone}}{{/mask}}", data), "+********4567");
  EXPECT_EQ(run(en_, "{{#mask}}{{spaced}}{{/mask}}", data), "***-****-3456");
  EXPECT_EQ(run(en_, "{{#mask}}{{short}}{{/mask}}", data), "****");
}

TEST_F(Helpers, UpperLowerAsciiOnly) {
  EXPECT_EQ(run(en_, "{{#upper}}{{n}}{{/upper}}|{{#lower}}{{n}}{{/lower}}", R"({"n":"Mwansa é"})"),
            "MWANSA é|mwansa é");
}

TEST_F(Helpers, TruncateCountsCharactersAndUsesGsmDots) {
  std::string data = R"({"p":"School fees for the third term","s":"Short","u":"ééééééééééé"})";
  EXPECT_EQ(run(en_, "{{#truncate}}15 {{p}}{{/truncate}}", data), "School fees...");
  EXPECT_EQ(run(en_, "{{#truncate}}15 {{s}}{{/truncate}}", data), "Short");
  EXPECT_EQ(run(en_, "{{#truncate}}8 {{u}}{{/truncate}}", data), "ééééé...");
  EXPECT_EQ(run(en_, "{{#truncate}}3 {{p}}{{/truncate}}", data), "Sch");
  EXPECT_EQ(run(en_, "{{#truncate}}{{p}}{{/truncate}}", data), "School fees for the third term");  // no limit
}

TEST_F(Helpers, ResultsAreEscapedPerChannelOnce) {
  std::string data = R"({"n":"o'brien & <co>"})";
  EXPECT_EQ(run(en_, "{{#upper}}{{n}}{{/upper}}", data, Escape::html), "O&#39;BRIEN &amp; &lt;CO&gt;");
  EXPECT_EQ(run(en_, "{{#upper}}{{n}}{{/upper}}", data, Escape::none), "O'BRIEN & <CO>");
  EXPECT_EQ(run(en_, "{{#upper}}\"{{n}}\"{{/upper}}", data, Escape::json), R"(\"O'BRIEN & <CO>\")");
}

TEST_F(Helpers, SectionsCallHelpersEvenWhenDataHasTheName) {
  // Interpolation: the data wins. Section: the registered helper wins, so a payload field never turns
  // formatting off.
  EXPECT_EQ(run(en_, "{{date}} {{#date}}{{due}}{{/date}} {{^date}}no{{/date}}",
                R"({"date":"today","due":"2025-03-15"})"),
            "today 15 March 2025 ");
  EXPECT_EQ(run(en_, "[{{money}}]", "{}"), "[]");  // a filter used as an interpolation formats ""
}

TEST_F(Helpers, RealisticSms) {
  std::string data = R"({"name":"Mwansa","amount":1250.5,"due":"2025-03-15","account":"0012345678"})";
  EXPECT_EQ(run(en_,
                "Dear {{name}}, your repayment of {{#money}}{{amount}}{{/money}} for loan "
                "{{#mask}}{{account}}{{/mask}} is due on {{#date}}{{due}}{{/date}}.",
                data),
            "Dear Mwansa, your repayment of K 1,250.50 for loan ******5678 is due on 15 March 2025.");
}

}  // namespace
}  // namespace comms::templates
