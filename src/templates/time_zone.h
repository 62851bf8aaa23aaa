// IANA time zones for the date helpers.
//
// GCC 12's libstdc++ has no std::chrono::tzdb / zoned_time (they arrive in GCC 13/14), so this reads the
// system's compiled zone files (TZif, RFC 8536) from /usr/share/zoneinfo, including the POSIX-TZ footer
// that describes daylight saving after the last listed transition. When the file is missing (no tzdata
// package) a built-in table of fixed offsets covers the African zones without daylight saving (CAT, EAT,
// WAT, SAST) and UTC.
//
// Thread safety: a TimeZone is an immutable value; share it freely.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace comms::templates {

class TimeZone {
 public:
  // The zone named iana_name ("Africa/Lusaka") from zoneinfo_dir, else from the built-in table; nullopt
  // when the name is malformed (only [A-Za-z0-9_+-] segments separated by '/') or unknown.
  static std::optional<TimeZone> locate(std::string_view iana_name,
                                        const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  static TimeZone fixed(std::string name, std::chrono::seconds utc_offset);

  const std::string& name() const { return name_; }
  // The offset from UTC in force at instant t.
  std::chrono::seconds offset(std::chrono::sys_seconds t) const;
  std::chrono::local_seconds to_local(std::chrono::sys_seconds t) const {
    return std::chrono::local_seconds{(t + offset(t)).time_since_epoch()};
  }

 private:
  // A POSIX TZ rule ("GMT0BST,M3.5.0/1,M10.5.0"): the zone after its last listed transition.
  struct Rule {
    std::int32_t std_offset = 0, dst_offset = 0;  // seconds east of UTC
    bool has_dst = false;
    struct When {
      char kind = 'M';  // 'M' month.week.day, 'J' julian day 1..365 (no Feb 29), 'n' day 0..365
      int month = 0, week = 0, day = 0;
      std::int32_t time = 7200;  // seconds after local midnight
    } start, end;
  };

  std::string name_;
  std::vector<std::int64_t> transitions_;  // UTC seconds, ascending
  std::vector<std::int32_t> offsets_;      // offset in force from each transition on
  std::int32_t initial_offset_ = 0;        // before the first transition
  std::optional<Rule> rule_;               // after the last transition
  friend struct TimeZoneReader;
};

}  // namespace comms::templates
