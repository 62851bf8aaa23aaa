#include "common/clock.h"

#include <chrono>
#include <cstdio>

namespace comms {

Millis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_iso8601(Millis ms) {
  if (ms == 0) return {};
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  const year_month_day ymd(day);
  Millis rest = ms - duration_cast<milliseconds>(day.time_since_epoch()).count();
  const int h = static_cast<int>(rest / 3'600'000);
  const int m = static_cast<int>(rest / 60'000 % 60);
  const int s = static_cast<int>(rest / 1000 % 60);
  const int f = static_cast<int>(rest % 1000);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), h, m, s, f);
  return buf;
}

namespace {
bool digits(std::string_view t, size_t pos, size_t n, int& out) {
  if (pos + n > t.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
    out = out * 10 + (t[i] - '0');
  }
  return true;
}
}  // namespace

std::optional<Millis> parse_iso8601(std::string_view t) {
  int y, mo, d, h = 0, mi = 0, s = 0, frac = 0;
  if (!digits(t, 0, 4, y) || t.size() < 10 || t[4] != '-' || !digits(t, 5, 2, mo) || t[7] != '-' ||
      !digits(t, 8, 2, d))
    return std::nullopt;
  size_t pos = 10;
  Millis offset_ms = 0;
  if (pos < t.size()) {
    if (t[pos] != 'T' && t[pos] != ' ') return std::nullopt;
    if (!digits(t, pos + 1, 2, h) || t.size() < pos + 6 || t[pos + 3] != ':' || !digits(t, pos + 4, 2, mi))
      return std::nullopt;
    pos += 6;
    if (pos < t.size() && t[pos] == ':') {
      if (!digits(t, pos + 1, 2, s)) return std::nullopt;
      pos += 3;
      if (pos < t.size() && t[pos] == '.') {
        ++pos;
        int scale = 100, n = 0;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
          frac += (t[pos] - '0') * scale;
          scale /= 10;
          ++pos;
          ++n;
        }
        if (n == 0) return std::nullopt;
      }
    }
    if (pos < t.size()) {
      if (t[pos] == 'Z' && pos + 1 == t.size()) {
        pos++;
      } else if ((t[pos] == '+' || t[pos] == '-') && t.size() == pos + 6 && t[pos + 3] == ':') {
        int oh, om;
        if (!digits(t, pos + 1, 2, oh) || !digits(t, pos + 4, 2, om)) return std::nullopt;
        offset_ms = (oh * 60 + om) * 60'000LL * (t[pos] == '+' ? 1 : -1);
        pos = t.size();
      } else {
        return std::nullopt;
      }
    }
  }
  using namespace std::chrono;
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  const Millis base = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  return base + ((h * 60LL + mi) * 60 + s) * 1000 + frac - offset_ms;
}

}  // namespace comms
