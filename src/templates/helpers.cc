#include "templates/helpers.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "templates/time_zone.h"

namespace comms::templates {
namespace {

using namespace std::chrono;

enum class Language { en, bem, ny };

Language language_of(std::string_view locale) {
  std::string_view lang = locale.substr(0, locale.find_first_of("-_"));
  if (lang == "bem") return Language::bem;
  if (lang == "ny") return Language::ny;
  return Language::en;
}

// English; Bemba from glibc's bem_ZM locale; Nyanja (Chinyanja / Chichewa) as commonly written in Zambia.
constexpr std::array<std::array<std::string_view, 12>, 3> kMonths{{
    {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"},
    {"Januari", "Februari", "Machi", "Epreo", "Mei", "Juni", "Julai", "Ogasti", "Septemba", "Oktoba",
     "Novemba", "Disemba"},
    {"Januwale", "Febuluwale", "Malichi", "Epulo", "Meyi", "Juni", "Julai", "Ogasiti", "Seputembala",
     "Okutobala", "Novembala", "Disembala"},
}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// "1250.5" -> "K 1,250.50". Decimal arithmetic on the digits (no binary rounding), half away from zero.
bool format_money(std::string_view s, std::string& out) {
  s = trim(s);
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  constexpr std::size_t kMaxDigits = 40;
  char d[kMaxDigits + 3];  // d[0] takes a carry; integer digits, then exactly two fraction digits
  std::size_t n = 1;
  std::size_t i = 0;
  for (; i < s.size() && (is_digit(s[i]) || s[i] == ','); ++i) {
    if (s[i] == ',') continue;
    if (n > kMaxDigits) return false;
    d[n++] = s[i];
  }
  std::string_view frac;
  if (i < s.size() && s[i] == '.') {
    std::size_t f = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac = s.substr(f, i - f);
  }
  if (i != s.size() || (n == 1 && frac.empty())) return false;
  d[n++] = frac.size() > 0 ? frac[0] : '0';
  d[n++] = frac.size() > 1 ? frac[1] : '0';
  std::size_t first = 1;
  if (frac.size() > 2 && frac[2] >= '5') {
    std::size_t k = n;
    while (k > 1 && d[k - 1] == '9') d[--k] = '0';
    if (k == 1) {
      d[0] = '1';
      first = 0;
    } else {
      ++d[k - 1];
    }
  }
  std::size_t whole_end = n - 2;
  while (first + 1 < whole_end && d[first] == '0') ++first;  // keep one digit before the point
  bool zero = true;
  for (std::size_t k = first; k < n; ++k) zero = zero && d[k] == '0';
  char o[kMaxDigits * 2 + 8];
  std::size_t len = 0;
  for (char c : std::string_view(negative && !zero ? "-K " : "K ")) o[len++] = c;
  if (first == whole_end) o[len++] = '0';
  for (std::size_t k = first; k < whole_end; ++k) {
    if (k > first && (whole_end - k) % 3 == 0) o[len++] = ',';
    o[len++] = d[k];
  }
  o[len++] = '.';
  o[len++] = d[whole_end];
  o[len++] = d[whole_end + 1];
  out.append(o, len);
  return true;
}

struct When {
  bool has_time = false;
  sys_seconds instant{};
  year_month_day date{};
};

int read_int(std::string_view s, std::size_t pos, std::size_t n, bool& ok) {
  int v = 0;
  if (pos + n > s.size()) {
    ok = false;
    return 0;
  }
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) ok = false;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Epoch milliseconds, "YYYY-MM-DD", or "YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH:MM|+HHMM|+HH]" (UTC when no
// offset is given).
std::optional<When> parse_when(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  std::size_t d = s[0] == '-' ? 1 : 0;
  bool all_digits = s.size() > d && s.size() - d <= 15;
  for (std::size_t i = d; all_digits && i < s.size(); ++i) all_digits = is_digit(s[i]);
  if (all_digits) {
    long long ms = 0;
    for (std::size_t i = d; i < s.size(); ++i) ms = ms * 10 + (s[i] - '0');
    if (d) ms = -ms;
    return When{true, sys_seconds{floor<seconds>(milliseconds{ms})}, {}};
  }
  bool ok = s.size() >= 10 && s[4] == '-' && s[7] == '-';
  int y = read_int(s, 0, 4, ok), mo = read_int(s, 5, 2, ok), da = read_int(s, 8, 2, ok);
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(da)}};
  if (!ok || !ymd.ok()) return std::nullopt;
  if (s.size() == 10) return When{false, sys_days(ymd), ymd};
  if (s[10] != 'T' && s[10] != ' ') return std::nullopt;
  std::size_t p = 11;
  int hh = read_int(s, p, 2, ok);
  int mm = (ok && p + 2 < s.size() && s[p + 2] == ':') ? read_int(s, p + 3, 2, ok) : -1;
  if (!ok || mm < 0 || hh > 23 || mm > 59) return std::nullopt;
  p += 5;
  int ss = 0;
  if (p < s.size() && s[p] == ':') {
    ss = read_int(s, p + 1, 2, ok);
    p += 3;
    if (p < s.size() && s[p] == '.') {
      ++p;
      while (p < s.size() && is_digit(s[p])) ++p;
    }
  }
  if (!ok || ss > 60) return std::nullopt;
  int offset = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    int oh = read_int(s, p + 1, 2, ok), om = 0;
    p += 3;
    if (p < s.size() && s[p] == ':') ++p;
    if (p < s.size()) {
      om = read_int(s, p, 2, ok);
      p += 2;
    }
    offset = sign * (oh * 3600 + om * 60);
  }
  if (!ok || p != s.size()) return std::nullopt;
  sys_seconds t = sys_days(ymd) + hours{hh} + minutes{mm} + seconds{ss} - seconds{offset};
  return When{true, t, {}};
}

char* put_int(char* p, long long v) {
  return std::to_chars(p, p + 24, v).ptr;
}

char* put_two_digits(char* p, unsigned v) {
  *p++ = static_cast<char>('0' + v / 10 % 10);
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

class DateFormatter {
 public:
  DateFormatter(Language lang, TimeZone tz) : lang_(lang), tz_(std::move(tz)) {}

  bool format(std::string_view input, bool date, bool time, std::string& out) const {
    std::optional<When> w = parse_when(input);
    if (!w) return false;
    year_month_day ymd = w->date;
    hh_mm_ss<seconds> tod{seconds{0}};
    if (w->has_time) {
      local_seconds local = tz_.to_local(w->instant);
      local_days day = floor<days>(local);
      ymd = year_month_day{day};
      tod = hh_mm_ss<seconds>{local - day};
    }
    char buf[96];
    char* p = buf;
    if (date) {
      p = put_int(p, static_cast<unsigned>(ymd.day()));
      *p++ = ' ';
      std::string_view m = kMonths[static_cast<int>(lang_)][static_cast<unsigned>(ymd.month()) - 1];
      p = std::copy(m.begin(), m.end(), p);
      *p++ = ' ';
      p = put_int(p, static_cast<int>(ymd.year()));
    }
    if (time) {
      if (date) {
        *p++ = ',';
        *p++ = ' ';
      }
      p = put_two_digits(p, static_cast<unsigned>(tod.hours().count()));
      *p++ = ':';
      p = put_two_digits(p, static_cast<unsigned>(tod.minutes().count()));
    }
    out.append(buf, p);
    return true;
  }

 private:
  Language lang_;
  TimeZone tz_;
};

// Keeps the last four letters or digits; masks the others with '*'. Punctuation and spaces stay, so
// "+260 97 123 4567" keeps its shape. A value with four or fewer is masked completely.
bool format_mask(std::string_view s, std::string& out) {
  s = trim(s);
  auto maskable = [](unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
  };
  int total = 0;
  for (char c : s) {
    if (maskable(static_cast<unsigned char>(c)) && !is_continuation(c)) ++total;
  }
  int keep_from = total > 4 ? total - 4 : total;
  int seen = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = 1;
    while (i + n < s.size() && is_continuation(s[i + n])) ++n;
    if (!maskable(static_cast<unsigned char>(s[i]))) {
      out.append(s.substr(i, n));
    } else {
      if (seen >= keep_from) {
        out.append(s.substr(i, n));
      } else {
        out += '*';
      }
      ++seen;
    }
    i += n;
  }
  return true;
}

bool format_case(std::string_view s, bool upper, std::string& out) {
  std::size_t start = out.size();
  out.append(s);
  for (std::size_t i = start; i < out.size(); ++i) {
    char& c = out[i];
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return true;
}

// "20 some long text": at most 20 characters (code points), ending in "..." when cut. "..." rather than
// "…" keeps an SMS in GSM-7.
bool format_truncate(std::string_view s, std::string& out) {
  std::size_t i = 0;
  std::size_t limit = 0;
  while (i < s.size() && is_digit(s[i]) && i < 6) limit = limit * 10 + (s[i++] - '0');
  if (i == 0 || i >= s.size() || (s[i] != ' ' && s[i] != '\t')) return false;
  std::string_view text = trim(s.substr(i));
  std::size_t count = 0, cut = text.size(), keep = limit > 3 ? limit - 3 : limit;
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (is_continuation(text[k])) continue;
    if (count == keep && cut == text.size()) cut = k;
    ++count;
  }
  if (count <= limit) {
    out.append(text);
    return true;
  }
  out.append(trim(text.substr(0, cut)));
  if (limit > 3) out.append("...");
  return true;
}

// A Filter from a formatter; input the formatter cannot read passes through unchanged.
template <typename F>
Filter passthrough(F format) {
  return [format](std::string_view body, std::string& out) {
    if (!format(body, out)) {
      out.clear();
      out.append(body);
    }
  };
}

}  // namespace

Lambdas default_helpers(std::string_view locale, std::string_view timezone) {
  Language lang = language_of(locale);
  std::optional<TimeZone> tz = TimeZone::locate(timezone.empty() ? "Africa/Lusaka" : timezone);
  if (!tz) tz = TimeZone::locate("Africa/Lusaka");
  auto dates = std::make_shared<const DateFormatter>(lang, std::move(*tz));

  Lambdas l;
  l.add_filter("money", passthrough(format_money));
  l.add_filter("date", passthrough([dates](std::string_view s, std::string& out) {
                 return dates->format(s, true, false, out);
               }));
  l.add_filter("datetime", passthrough([dates](std::string_view s, std::string& out) {
                 return dates->format(s, true, true, out);
               }));
  l.add_filter("time", passthrough([dates](std::string_view s, std::string& out) {
                 return dates->format(s, false, true, out);
               }));
  l.add_filter("mask", passthrough(format_mask));
  l.add_filter("upper",
               passthrough([](std::string_view s, std::string& out) { return format_case(s, true, out); }));
  l.add_filter("lower",
               passthrough([](std::string_view s, std::string& out) { return format_case(s, false, out); }));
  l.add_filter("truncate", passthrough(format_truncate));
  return l;
}

}  // namespace comms::templates
