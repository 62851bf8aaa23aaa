#include "templates/time_zone.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace comms::templates {
namespace {

using namespace std::chrono;

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || n.front() == '/' || n.back() == '/') return false;
  std::size_t seg = 0;
  for (std::size_t i = 0; i <= n.size(); ++i) {
    if (i == n.size() || n[i] == '/') {
      if (seg == 0 || n.substr(i - seg, seg) == "." || n.substr(i - seg, seg) == "..") return false;
      seg = 0;
      continue;
    }
    char c = n[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '+' || c == '.';
    if (!ok) return false;
    ++seg;
  }
  return true;
}

// Zones without daylight saving, for machines without tzdata.
std::optional<std::int32_t> builtin_offset(std::string_view n) {
  struct Entry {
    std::string_view name;
    std::int32_t hours;
  };
  static constexpr Entry kZones[] = {
      {"UTC", 0},
      {"Etc/UTC", 0},
      {"GMT", 0},
      {"Etc/GMT", 0},
      {"Africa/Lusaka", 2},
      {"Africa/Harare", 2},
      {"Africa/Blantyre", 2},
      {"Africa/Lubumbashi", 2},
      {"Africa/Maputo", 2},
      {"Africa/Gaborone", 2},
      {"Africa/Johannesburg", 2},
      {"Africa/Windhoek", 2},
      {"Africa/Kigali", 2},
      {"Africa/Bujumbura", 2},
      {"Africa/Nairobi", 3},
      {"Africa/Dar_es_Salaam", 3},
      {"Africa/Kampala", 3},
      {"Africa/Addis_Ababa", 3},
      {"Africa/Lagos", 1},
      {"Africa/Kinshasa", 1},
      {"Africa/Luanda", 1},
      {"Africa/Accra", 0},
  };
  for (const Entry& e : kZones) {
    if (e.name == n) return e.hours * 3600;
  }
  return std::nullopt;
}

class Bytes {
 public:
  explicit Bytes(std::string_view d) : d_(d) {}
  bool ok() const { return ok_; }
  std::size_t pos() const { return pos_; }
  std::int64_t be(int n) {
    if (!need(n)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(d_[pos_ + i]);
    pos_ += n;
    if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }
  std::uint8_t u8() { return static_cast<std::uint8_t>(be(1)); }
  void skip(std::size_t n) {
    if (need(n)) pos_ += n;
  }
  std::string_view rest() const { return d_.substr(std::min(pos_, d_.size())); }

 private:
  bool need(std::size_t n) {
    if (!ok_ || d_.size() - pos_ < n) ok_ = false;
    return ok_;
  }
  std::string_view d_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Parses "[+-]hh[:mm[:ss]]" into seconds.
bool parse_hms(std::string_view& s, std::int32_t& out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  std::int32_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (s.empty() || s[0] < '0' || s[0] > '9') {
      if (i == 0) return false;
      break;
    }
    int v = 0, digits = 0;
    while (!s.empty() && s[0] >= '0' && s[0] <= '9' && digits < 3) {
      v = v * 10 + (s[0] - '0');
      s.remove_prefix(1);
      ++digits;
    }
    parts[i] = v;
    if (i < 2 && !s.empty() && s[0] == ':') {
      s.remove_prefix(1);
    } else {
      break;
    }
  }
  out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool skip_abbreviation(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    std::size_t e = s.find('>');
    if (e == std::string_view::npos) return false;
    s.remove_prefix(e + 1);
    return true;
  }
  std::size_t n = 0;
  while (n < s.size() && ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))) ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

int parse_int(std::string_view& s) {
  int v = 0;
  while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    v = v * 10 + (s[0] - '0');
    s.remove_prefix(1);
  }
  return v;
}

}  // namespace

struct TimeZoneReader {
  // UTC seconds at which rule date `w` (local time, with offset `off` in force) falls in year y.
  static std::int64_t transition_utc(const TimeZone::Rule::When& w, int y, std::int32_t off) {
    year yr{y};
    sys_days day;
    if (w.kind == 'M') {
      month m{static_cast<unsigned>(w.month)};
      weekday wd{static_cast<unsigned>(w.day)};
      day = w.week >= 5 ? sys_days(yr / m / wd[last]) : sys_days(yr / m / wd[static_cast<unsigned>(w.week)]);
    } else if (w.kind == 'J') {
      int n = w.day - 1;  // Feb 29 is never counted
      if (yr.is_leap() && n >= 59) ++n;
      day = sys_days(yr / January / 1) + days{n};
    } else {
      day = sys_days(yr / January / 1) + days{w.day};
    }
    return duration_cast<seconds>(day.time_since_epoch()).count() + w.time - off;
  }

  static bool parse_rule(std::string_view s, TimeZone::Rule& r) {
    if (!skip_abbreviation(s) || !parse_hms(s, r.std_offset)) return false;
    r.std_offset = -r.std_offset;  // POSIX offsets count west of UTC
    if (s.empty()) return true;
    if (!skip_abbreviation(s)) return false;
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (!s.empty() && s[0] != ',') {
      if (!parse_hms(s, r.dst_offset)) return false;
      r.dst_offset = -r.dst_offset;
    }
    for (TimeZone::Rule::When* w : {&r.start, &r.end}) {
      if (s.empty() || s[0] != ',') return false;
      s.remove_prefix(1);
      if (!s.empty() && s[0] == 'M') {
        s.remove_prefix(1);
        w->kind = 'M';
        w->month = parse_int(s);
        if (s.empty() || s[0] != '.') return false;
        s.remove_prefix(1);
        w->week = parse_int(s);
        if (s.empty() || s[0] != '.') return false;
        s.remove_prefix(1);
        w->day = parse_int(s);
        if (w->month < 1 || w->month > 12 || w->week < 1 || w->week > 5 || w->day > 6) return false;
      } else if (!s.empty() && s[0] == 'J') {
        s.remove_prefix(1);
        w->kind = 'J';
        w->day = parse_int(s);
        if (w->day < 1 || w->day > 365) return false;
      } else {
        w->kind = 'n';
        w->day = parse_int(s);
        if (w->day > 365) return false;
      }
      if (!s.empty() && s[0] == '/') {
        s.remove_prefix(1);
        if (!parse_hms(s, w->time)) return false;
      }
    }
    return s.empty();
  }

  static bool parse(std::string_view data, TimeZone& tz) {
    Bytes b(data);
    auto header = [&b](int& version, std::int64_t counts[6]) {
      if (b.rest().substr(0, 4) != "TZif") return false;
      b.skip(4);
      version = b.u8();
      b.skip(15);
      for (int i = 0; i < 6; ++i) counts[i] = b.be(4);
      for (int i = 0; i < 6; ++i) {
        if (counts[i] < 0 || counts[i] > 100000) return false;
      }
      return b.ok();
    };
    int version = 0;
    std::int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    if (!header(version, c)) return false;
    int time_size = 4;
    if (version >= '2') {
      b.skip(c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
      if (!header(version, c)) return false;
      time_size = 8;
    }
    std::int64_t timecnt = c[3], typecnt = c[4];
    if (typecnt == 0) return false;
    std::vector<std::int64_t> times(timecnt);
    for (auto& t : times) t = b.be(time_size);
    std::vector<std::uint8_t> idx(timecnt);
    for (auto& i : idx) i = b.u8();
    std::vector<std::int32_t> type_offsets(typecnt);
    for (auto& o : type_offsets) {
      o = static_cast<std::int32_t>(b.be(4));
      b.skip(2);
    }
    b.skip(c[5] + c[2] * (time_size + 4) + c[1] + c[0]);
    if (!b.ok()) return false;
    for (std::int64_t i = 0; i < timecnt; ++i) {
      if (idx[i] >= typecnt || (i > 0 && times[i] <= times[i - 1])) return false;
      tz.transitions_.push_back(times[i]);
      tz.offsets_.push_back(type_offsets[idx[i]]);
    }
    tz.initial_offset_ = type_offsets[0];
    if (time_size == 8) {
      std::string_view footer = b.rest();
      if (footer.size() >= 2 && footer[0] == '\n') {
        std::size_t e = footer.find('\n', 1);
        std::string_view rule = footer.substr(1, e == std::string_view::npos ? e : e - 1);
        TimeZone::Rule r;
        if (!rule.empty() && parse_rule(rule, r)) tz.rule_ = r;
      }
    }
    return true;
  }
};

std::optional<TimeZone> TimeZone::locate(std::string_view iana_name, const std::string& zoneinfo_dir) {
  if (!valid_name(iana_name)) return std::nullopt;
  std::ifstream in(zoneinfo_dir + "/" + std::string(iana_name), std::ios::binary);
  if (in) {
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    TimeZone tz;
    tz.name_ = std::string(iana_name);
    if (data.size() <= (1u << 20) && TimeZoneReader::parse(data, tz)) return tz;
  }
  if (auto off = builtin_offset(iana_name)) return fixed(std::string(iana_name), seconds{*off});
  return std::nullopt;
}

TimeZone TimeZone::fixed(std::string name, std::chrono::seconds utc_offset) {
  TimeZone tz;
  tz.name_ = std::move(name);
  tz.initial_offset_ = static_cast<std::int32_t>(utc_offset.count());
  return tz;
}

std::chrono::seconds TimeZone::offset(std::chrono::sys_seconds t) const {
  std::int64_t s = t.time_since_epoch().count();
  if (!transitions_.empty()) {
    if (s < transitions_.front()) return seconds{initial_offset_};
    if (s < transitions_.back() || !rule_) {
      auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
      return seconds{offsets_[static_cast<std::size_t>(it - transitions_.begin()) - 1]};
    }
  } else if (!rule_) {
    return seconds{initial_offset_};
  }
  const Rule& r = *rule_;
  if (!r.has_dst) return seconds{r.std_offset};
  int y = static_cast<int>(year_month_day(floor<days>(t)).year());
  std::int64_t start = TimeZoneReader::transition_utc(r.start, y, r.std_offset);
  std::int64_t end = TimeZoneReader::transition_utc(r.end, y, r.dst_offset);
  bool dst = start < end ? (s >= start && s < end) : !(s >= end && s < start);
  return seconds{dst ? r.dst_offset : r.std_offset};
}

}  // namespace comms::templates
