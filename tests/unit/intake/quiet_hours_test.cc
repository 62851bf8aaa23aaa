#include <gtest/gtest.h>

#include "commands/rejected.h"
#include "intake/preferences.h"

namespace comms::intake {
namespace {

Millis at(std::string_view iso) {
  return *parse_iso8601(iso);
}

class QuietHours : public ::testing::Test {
 protected:
  const templates::TimeZone& zone(const std::string& name) { return zones_.get(name); }
  std::optional<Millis> until(std::string_view start, std::string_view end, const std::string& tz,
                              std::string_view now) {
    return quiet_until(start, end, zone(tz), at(now));
  }
  TimeZones zones_;
};

TEST_F(QuietHours, AcrossMidnightBeforeAndAfterIt) {
  // Lusaka is UTC+2 all year.
  EXPECT_EQ(until("21:00", "07:00", "Africa/Lusaka", "2026-03-01T20:30:00Z"), at("2026-03-02T05:00:00Z"));
  EXPECT_EQ(until("21:00", "07:00", "Africa/Lusaka", "2026-03-02T03:00:00Z"), at("2026-03-02T05:00:00Z"));
  EXPECT_EQ(until("21:00", "07:00", "Africa/Lusaka", "2026-03-01T19:00:00Z"), at("2026-03-02T05:00:00Z"));
  EXPECT_FALSE(until("21:00", "07:00", "Africa/Lusaka", "2026-03-01T18:59:59Z"));  // 20:59:59 local
  EXPECT_FALSE(until("21:00", "07:00", "Africa/Lusaka", "2026-03-02T05:00:00Z"));  // 07:00 is no longer quiet
  EXPECT_FALSE(until("21:00", "07:00", "Africa/Lusaka", "2026-03-02T10:00:00Z"));
}

TEST_F(QuietHours, WithinOneDay) {
  EXPECT_EQ(until("12:00", "14:00", "Africa/Lusaka", "2026-03-01T10:30:00Z"), at("2026-03-01T12:00:00Z"));
  EXPECT_FALSE(until("12:00", "14:00", "Africa/Lusaka", "2026-03-01T12:00:00Z"));
  EXPECT_FALSE(until("12:00", "14:00", "Africa/Lusaka", "2026-03-01T09:59:00Z"));
}

TEST_F(QuietHours, InTheRecipientsZone) {
  // Kolkata is UTC+5:30: 22:30 local on 1 March; quiet until 06:00 local on 2 March.
  EXPECT_EQ(until("22:00", "06:00", "Asia/Kolkata", "2026-03-01T17:00:00Z"), at("2026-03-02T00:30:00Z"));
  // The same instant is 19:00 in Lusaka: not quiet there.
  EXPECT_FALSE(until("22:00", "06:00", "Africa/Lusaka", "2026-03-01T17:00:00Z"));
}

TEST_F(QuietHours, AcrossADaylightSavingChange) {
  // New York springs forward at 02:00 on 8 March 2026: 23:00 EST (UTC-5) on the 7th is quiet
  // until 07:00 EDT (UTC-4) on the 8th, which is 11:00Z, not 12:00Z.
  EXPECT_EQ(until("22:00", "07:00", "America/New_York", "2026-03-08T04:00:00Z"), at("2026-03-08T11:00:00Z"));
}

TEST_F(QuietHours, NoneWhenUnsetEqualOrMalformed) {
  EXPECT_FALSE(until("", "", "Africa/Lusaka", "2026-03-01T22:00:00Z"));
  EXPECT_FALSE(until("21:00", "21:00", "Africa/Lusaka", "2026-03-01T20:00:00Z"));
  EXPECT_FALSE(until("9pm", "07:00", "Africa/Lusaka", "2026-03-01T20:00:00Z"));
}

TEST_F(QuietHours, UnknownZonesFallBackToLusaka) {
  EXPECT_EQ(until("21:00", "07:00", "Mars/Olympus", "2026-03-01T20:30:00Z"), at("2026-03-02T05:00:00Z"));
}

TEST(HhMm, Parses) {
  EXPECT_EQ(parse_hhmm("00:00"), 0);
  EXPECT_EQ(parse_hhmm("23:59"), 23 * 60 + 59);
  EXPECT_FALSE(parse_hhmm("24:00"));
  EXPECT_FALSE(parse_hhmm("7:00"));
  EXPECT_FALSE(parse_hhmm("07:60"));
}

TEST(Preferences, OptOutAndValidation) {
  store::RecipientPreferences p;
  p.opted_out_channels = {"sms"};
  p.opted_out_categories = {"marketing"};
  EXPECT_EQ(opted_out(p, domain::Channel::sms, "collections"), Suppression::channel_opted_out);
  EXPECT_EQ(opted_out(p, domain::Channel::email, "marketing"), Suppression::category_opted_out);
  EXPECT_EQ(opted_out(p, domain::Channel::email, "collections"), Suppression::none);
  EXPECT_NO_THROW(validate(p));
  auto bad = p;
  bad.opted_out_channels = {"fax"};
  EXPECT_THROW(validate(bad), commands::Rejected);
  bad = p;
  bad.quiet_start = "21:00";
  EXPECT_THROW(validate(bad), commands::Rejected);  // end missing
  bad.quiet_end = "21:00";
  EXPECT_THROW(validate(bad), commands::Rejected);  // equal
  bad.quiet_end = "07:00";
  EXPECT_NO_THROW(validate(bad));
  bad.timezone = "Nowhere/Special";
  EXPECT_THROW(validate(bad), commands::Rejected);
}

TEST(Preferences, CacheCodecRoundTrips) {
  store::RecipientPreferences p;
  p.recipient_id = "c-1";
  p.opted_out_channels = {"sms", "email"};
  p.opted_out_categories = {"marketing"};
  p.quiet_start = "21:00";
  p.quiet_end = "07:00";
  p.timezone = "Africa/Lusaka";
  p.language = "bem";
  p.updated_at = 99;
  p.version = 3;
  const auto back = decode(encode(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->opted_out_channels, p.opted_out_channels);
  EXPECT_EQ(back->quiet_end, "07:00");
  EXPECT_EQ(back->version, 3);
  EXPECT_FALSE(decode("garbage"));
}

}  // namespace
}  // namespace comms::intake
