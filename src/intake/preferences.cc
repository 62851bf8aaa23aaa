#include "intake/preferences.h"

#include <boost/json.hpp>
#include <cctype>

#include "commands/rejected.h"
#include "domain/address.h"

namespace comms::intake {
namespace {

using std::chrono::days;
using std::chrono::local_seconds;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_seconds;

[[noreturn]] void invalid(const std::string& message) {
  throw commands::Rejected(commands::Rejected::Kind::invalid, "invalid_request", message);
}

bool valid_category(std::string_view c) {
  if (c.empty() || c.size() > 64) return false;
  for (char ch : c)
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) ||
          ch == '-' || ch == '_' || ch == '.'))
      return false;
  return true;
}

// The UTC instant whose local time in `zone` is `local` (the later one when a
// DST change makes it ambiguous, the shifted one when it does not exist).
sys_seconds to_utc(local_seconds local, const templates::TimeZone& zone) {
  sys_seconds guess{local.time_since_epoch()};
  for (int i = 0; i < 3; ++i) guess = sys_seconds{local.time_since_epoch() - zone.offset(guess)};
  return guess;
}

boost::json::array to_array(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

std::optional<int> parse_hhmm(std::string_view t) {
  if (t.size() != 5 || t[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4})
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
  const int h = (t[0] - '0') * 10 + (t[1] - '0');
  const int m = (t[3] - '0') * 10 + (t[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

std::optional<Millis> quiet_until(std::string_view quiet_start, std::string_view quiet_end,
                                  const templates::TimeZone& zone, Millis now) {
  const auto start = parse_hhmm(quiet_start);
  const auto end = parse_hhmm(quiet_end);
  if (!start || !end || *start == *end) return std::nullopt;
  const sys_seconds now_s{std::chrono::duration_cast<seconds>(std::chrono::milliseconds(now))};
  const local_seconds local = zone.to_local(now_s);
  const auto midnight = std::chrono::floor<days>(local);
  const int minute = static_cast<int>(std::chrono::duration_cast<minutes>(local - midnight).count());
  local_seconds until;
  if (*start < *end) {
    if (minute < *start || minute >= *end) return std::nullopt;
    until = midnight + minutes(*end);
  } else if (minute >= *start) {
    until = midnight + days(1) + minutes(*end);
  } else if (minute < *end) {
    until = midnight + minutes(*end);
  } else {
    return std::nullopt;
  }
  const Millis out =
      std::chrono::duration_cast<std::chrono::milliseconds>(to_utc(until, zone).time_since_epoch()).count();
  return out > now ? std::optional(out) : std::nullopt;
}

Suppression opted_out(const store::RecipientPreferences& p, domain::Channel channel,
                      std::string_view category) {
  const auto ch = domain::to_string(channel);
  for (const auto& c : p.opted_out_channels)
    if (c == ch) return Suppression::channel_opted_out;
  for (const auto& c : p.opted_out_categories)
    if (c == category) return Suppression::category_opted_out;
  return Suppression::none;
}

std::string_view to_string(Suppression s) {
  switch (s) {
    case Suppression::none:
      return "none";
    case Suppression::channel_opted_out:
      return "channel_opted_out";
    case Suppression::category_opted_out:
      return "category_opted_out";
  }
  return "none";
}

void validate(const store::RecipientPreferences& p) {
  for (const auto& c : p.opted_out_channels)
    if (!domain::parse_channel(c))
      invalid("field 'optOut.channels' must hold sms, email or inapp; got '" + c + "'");
  for (const auto& c : p.opted_out_categories)
    if (!valid_category(c))
      invalid(
          "field 'optOut.categories' must hold template categories (lower-case letters, digits, '-', '_', "
          "'.'); got '" +
          c + "'");
  if (p.quiet_start.empty() != p.quiet_end.empty())
    invalid("fields 'quietHours.start' and 'quietHours.end' go together");
  if (!p.quiet_start.empty()) {
    if (!parse_hhmm(p.quiet_start))
      invalid("field 'quietHours.start' must be a local time HH:MM such as 21:00");
    if (!parse_hhmm(p.quiet_end)) invalid("field 'quietHours.end' must be a local time HH:MM such as 07:00");
    if (p.quiet_start == p.quiet_end) invalid("fields 'quietHours.start' and 'quietHours.end' must differ");
  }
  if (!p.timezone.empty() && !domain::is_known_timezone(p.timezone))
    invalid("field 'quietHours.timezone' must be an IANA time zone such as Africa/Lusaka");
  if (!p.language.empty() && !domain::is_language_tag(p.language))
    invalid("field 'language' must be a language tag such as en, bem or ny");
}

std::string encode(const store::RecipientPreferences& p) {
  boost::json::object o;
  o["r"] = p.recipient_id;
  o["ch"] = to_array(p.opted_out_channels);
  o["cat"] = to_array(p.opted_out_categories);
  o["qs"] = p.quiet_start;
  o["qe"] = p.quiet_end;
  o["tz"] = p.timezone;
  o["lang"] = p.language;
  o["at"] = p.updated_at;
  o["v"] = p.version;
  return boost::json::serialize(o);
}

std::optional<store::RecipientPreferences> decode(std::string_view text) {
  try {
    const auto o = boost::json::parse(text).as_object();
    store::RecipientPreferences p;
    p.recipient_id = o.at("r").as_string();
    for (const auto& c : o.at("ch").as_array()) p.opted_out_channels.emplace_back(c.as_string());
    for (const auto& c : o.at("cat").as_array()) p.opted_out_categories.emplace_back(c.as_string());
    p.quiet_start = o.at("qs").as_string();
    p.quiet_end = o.at("qe").as_string();
    p.timezone = o.at("tz").as_string();
    p.language = o.at("lang").as_string();
    p.updated_at = o.at("at").as_int64();
    p.version = o.at("v").as_int64();
    return p;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

const templates::TimeZone& TimeZones::get(const std::string& name) {
  std::lock_guard lock(mu_);
  if (auto it = zones_.find(name); it != zones_.end()) return it->second;
  auto zone = templates::TimeZone::locate(name);
  if (!zone) zone = templates::TimeZone::locate("Africa/Lusaka");
  if (!zone) zone = templates::TimeZone::fixed("Africa/Lusaka", std::chrono::hours(2));
  // Unknown names are remembered with the fallback, so they are looked up once.
  return zones_.emplace(name, *zone).first->second;
}

}  // namespace comms::intake
