#include "templates/time_zone.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace comms::templates {
namespace {
using namespace std::chrono;

sys_seconds utc(int y, unsigned m, unsigned d, int h) {
  return sys_days(year{y} / m / d) + hours{h};
}

TEST(TimeZone, LusakaIsCatAllYear) {
  auto tz = TimeZone::locate("Africa/Lusaka");
  ASSERT_TRUE(tz);
  EXPECT_EQ(tz->offset(utc(2025, 1, 15, 12)), hours{2});
  EXPECT_EQ(tz->offset(utc(2025, 7, 15, 12)), hours{2});
  EXPECT_EQ(tz->offset(utc(2060, 7, 15, 12)), hours{2});
}

TEST(TimeZone, DaylightSavingFromZoneFileAndPosixFooter) {
  if (!std::filesystem::exists("/usr/share/zoneinfo/Europe/London")) GTEST_SKIP() << "no tzdata";
  auto tz = TimeZone::locate("Europe/London");
  ASSERT_TRUE(tz);
  EXPECT_EQ(tz->offset(utc(2024, 1, 15, 12)), hours{0});
  EXPECT_EQ(tz->offset(utc(2024, 7, 15, 12)), hours{1});
  // 2024: BST from 31 March 01:00 UTC to 27 October 01:00 UTC.
  EXPECT_EQ(tz->offset(utc(2024, 3, 31, 0)), hours{0});
  EXPECT_EQ(tz->offset(utc(2024, 3, 31, 1)), hours{1});
  EXPECT_EQ(tz->offset(utc(2024, 10, 27, 0)), hours{1});
  EXPECT_EQ(tz->offset(utc(2024, 10, 27, 1)), hours{0});
  // Far beyond the file's transitions, the footer rule applies.
  EXPECT_EQ(tz->offset(utc(2099, 7, 1, 12)), hours{1});
  EXPECT_EQ(tz->offset(utc(2099, 12, 1, 12)), hours{0});
  auto sydney = TimeZone::locate("Australia/Sydney");  // southern hemisphere: DST spans the new year
  ASSERT_TRUE(sydney);
  EXPECT_EQ(sydney->offset(utc(2099, 1, 10, 0)), hours{11});
  EXPECT_EQ(sydney->offset(utc(2099, 7, 10, 0)), hours{10});
}

TEST(TimeZone, BuiltInTableWithoutTzdata) {
  auto tz = TimeZone::locate("Africa/Nairobi", "/nonexistent");
  ASSERT_TRUE(tz);
  EXPECT_EQ(tz->offset(utc(2025, 1, 1, 0)), hours{3});
  EXPECT_FALSE(TimeZone::locate("Europe/London", "/nonexistent"));
}

TEST(TimeZone, RejectsMalformedNames) {
  for (std::string_view n : {"", "../etc/passwd", "/etc/passwd", "Africa/../../x", "Africa//Lusaka", "a b"}) {
    EXPECT_FALSE(TimeZone::locate(n)) << n;
  }
  EXPECT_FALSE(TimeZone::locate("Nowhere/City"));
}

TEST(TimeZone, ToLocal) {
  TimeZone tz = TimeZone::fixed("X", hours{2});
  EXPECT_EQ(tz.to_local(utc(2025, 3, 12, 23)).time_since_epoch(), (utc(2025, 3, 13, 1)).time_since_epoch());
}

}  // namespace
}  // namespace comms::templates
