// Recipient preferences as rules: opt-out per channel and category, quiet
// hours in the recipient's time zone, preferred language. Pure functions plus
// a small cache of loaded time zones.
//
// Quiet hours [start, end) are local wall-clock times; start > end spans
// midnight (21:00-07:00). A non-critical notification due inside them is
// deferred to the end of the period (its not-before), never dropped; critical
// ones (OTP, statutory arrears notices: the rule's "critical") bypass opt-out
// and quiet hours. Time zones come from the system's TZif files through
// templates::TimeZone (GCC 12 has no std::chrono tzdb).
//
// Thread-safety: the functions are pure; TimeZones is internally locked.
#pragma once
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "domain/notification.h"
#include "store/store.h"
#include "templates/time_zone.h"

namespace comms::intake {

// "HH:MM" (00:00-23:59) -> minutes after midnight; nullopt when malformed.
std::optional<int> parse_hhmm(std::string_view text);

// When the quiet period that contains `now` ends, as a UTC instant; nullopt
// when `now` is outside quiet hours (or none are set: empty or equal start and
// end). `quiet_start`/`quiet_end` are "HH:MM" in `zone`.
std::optional<Millis> quiet_until(std::string_view quiet_start, std::string_view quiet_end,
                                  const templates::TimeZone& zone, Millis now);

enum class Suppression { none, channel_opted_out, category_opted_out };
Suppression opted_out(const store::RecipientPreferences& p, domain::Channel channel,
                      std::string_view category);
std::string_view to_string(Suppression s);

// Checks a preferences value from the API; throws commands::Rejected(invalid)
// naming the field (channel names, category syntax, HH:MM, time zone, language).
void validate(const store::RecipientPreferences& p);

// Cache codec (JSON text). decode returns nullopt for text it cannot read.
std::string encode(const store::RecipientPreferences& p);
std::optional<store::RecipientPreferences> decode(std::string_view text);

// Loaded time zones by name. Unknown or malformed names fall back to
// Africa/Lusaka (CAT, the lender's zone).
class TimeZones {
 public:
  const templates::TimeZone& get(const std::string& name);

 private:
  std::mutex mu_;
  std::map<std::string, templates::TimeZone, std::less<>> zones_;  // guarded by mu_
};

}  // namespace comms::intake
