#include "templates/helpers.h"

#include <array>
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

LambdaResult literal(std::string s) {
  return LambdaResult{std::move(s), true};
}

// "1250.5" -> "K 1,250.50". Decimal arithmetic on the digits, so no binary rounding; half away from zero.
std::optional<std::string> format_money(std::string_view s) {
  s = trim(s);
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  std::string digits;  // integer digits followed by exactly two fraction digits
  std::size_t i = 0;
  for (; i < s.size() && (is_digit(s[i]) || s[i] == ','); ++i) {
    if (s[i] != ',') digits += s[i];
  }
  std::string_view frac;
  if (i < s.size() && s[i] == '.') {
    std::size_t f = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac = s.substr(f, i - f);
  }
  if (i != s.size() || (digits.empty() && frac.empty())) return std::nullopt;
  digits += frac.size() > 0 ? frac[0] : '0';
  digits += frac.size() > 1 ? frac[1] : '0';
  if (frac.size() > 2 && frac[2] >= '5') {
    std::size_t k = digits.size();
    while (k > 0 && digits[k - 1] == '9') digits[--k] = '0';
    if (k == 0) {
      digits = '1' + digits;
    } else {
      ++digits[k - 1];
    }
  }
  if (digits.find_first_not_of('0') == std::string::npos) negative = false;
  std::size_t whole = digits.size() - 2, lead = 0;
  while (lead + 1 < whole && digits[lead] == '0') ++lead;
  std::string out = negative ? "-K " : "K ";
  if (whole == 0) out += '0';
  for (std::size_t k = lead; k < whole; ++k) {
    if (k > lead && (whole - k) % 3 == 0) out += ',';
    out += digits[k];
  }
  out += '.';
  out.append(digits, digits.size() - 2, 2);
  return out;
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
  if (s.size() > d && s.size() - d <= 15 && s.find_first_not_of("0123456789", d) == std::string_view::npos) {
    long long ms = std::stoll(std::string(s));
    return When{true, sys_seconds{floor<seconds>(milliseconds{ms})}, {}};
  }
  bool ok = s.size() >= 10 && s[4] == '-' && s[7] == '-';
  int y = read_int(s, 0, 4, ok), mo = read_int(s, 5, 2, ok), da = read_int(s, 8, 2, ok);
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(da)}};
  if (!ok || !ymd.ok()) return std::nullopt;
  if (s.size() == 10) return When{false, sys_days(ymd), ymd};
  if (s[10] != 'T' && s[10] != ' ') return std::nullopt;
  std::size_t p = 11;
  int hh = read_int(s, p, 2, ok),
      mm = (ok && p + 2 < s.size() && s[p + 2] == ':') ? read_int(s, p + 3, 2, ok) : -1;
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

std::string two_digits(unsigned v) {
  return {static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10)};
}

class DateFormatter {
 public:
  DateFormatter(Language lang, TimeZone tz) : lang_(lang), tz_(std::move(tz)) {}

  std::optional<std::string> format(std::string_view input, bool date, bool time) const {
    std::optional<When> w = parse_when(input);
    if (!w) return std::nullopt;
    year_month_day ymd = w->date;
    hh_mm_ss<seconds> tod{seconds{0}};
    if (w->has_time) {
      local_seconds local = tz_.to_local(w->instant);
      local_days day = floor<days>(local);
      ymd = year_month_day{day};
      tod = hh_mm_ss<seconds>{local - day};
    }
    std::string out;
    if (date) {
      out += std::to_string(static_cast<unsigned>(ymd.day()));
      out += ' ';
      out += kMonths[static_cast<int>(lang_)][static_cast<unsigned>(ymd.month()) - 1];
      out += ' ';
      out += std::to_string(static_cast<int>(ymd.year()));
    }
    if (time) {
      if (date) out += ", ";
      out += two_digits(static_cast<unsigned>(tod.hours().count()));
      out += ':';
      out += two_digits(static_cast<unsigned>(tod.minutes().count()));
    }
    return out;
  }

 private:
  Language lang_;
  TimeZone tz_;
};

// Keeps the last four letters or digits; masks the others with '*'. Punctuation and spaces stay, so
// "+260 97 123 4567" keeps its shape. A value with four or fewer is masked completely.
std::string mask(std::string_view s) {
  auto maskable = [](unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
  };
  int total = 0;
  for (char c : s) {
    if (maskable(static_cast<unsigned char>(c)) && !is_continuation(c)) ++total;
  }
  int keep_from = total > 4 ? total - 4 : total;
  std::string out;
  out.reserve(s.size());
  int seen = 0;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = 1;
    while (i + n < s.size() && is_continuation(s[i + n])) ++n;
    if (!maskable(static_cast<unsigned char>(s[i]))) {
      out.append(s.substr(i, n));
    } else {
      out.append(seen >= keep_from ? s.substr(i, n) : std::string_view("*"));
      ++seen;
    }
    i += n;
  }
  return out;
}

std::string change_case(std::string_view s, bool upper) {
  std::string out(s);
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// "20 some long text": at most 20 characters (code points), ending in "..." when cut. "..." rather than
// "…" keeps an SMS in GSM-7.
std::optional<std::string> truncate(std::string_view s) {
  std::size_t i = 0;
  std::size_t limit = 0;
  while (i < s.size() && is_digit(s[i]) && i < 6) limit = limit * 10 + (s[i++] - '0');
  if (i == 0 || i >= s.size() || (s[i] != ' ' && s[i] != '\t')) return std::nullopt;
  std::string_view text = trim(s.substr(i));
  std::size_t count = 0, cut = text.size(), keep = limit > 3 ? limit - 3 : limit;
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (is_continuation(text[k])) continue;
    if (count == keep && cut == text.size()) cut = k;
    ++count;
  }
  if (count <= limit) return std::string(text);
  std::string out(trim(text.substr(0, cut)));
  if (limit > 3) out += "...";
  return out;
}

}  // namespace

Lambdas default_helpers(std::string_view locale, std::string_view timezone) {
  Language lang = language_of(locale);
  std::optional<TimeZone> tz = TimeZone::locate(timezone.empty() ? "Africa/Lusaka" : timezone);
  if (!tz) tz = TimeZone::locate("Africa/Lusaka");
  auto dates = std::make_shared<const DateFormatter>(lang, std::move(*tz));

  // Formats the rendered body with f; unreadable input passes through unchanged.
  auto helper = [](auto f) {
    return [f](const LambdaCall& call) {
      std::string body = call.render_body();
      std::optional<std::string> r = f(body);
      return literal(r ? std::move(*r) : std::move(body));
    };
  };
  Lambdas l;
  l.add("money", helper([](std::string_view s) { return format_money(s); }));
  l.add("date", helper([dates](std::string_view s) { return dates->format(s, true, false); }));
  l.add("datetime", helper([dates](std::string_view s) { return dates->format(s, true, true); }));
  l.add("time", helper([dates](std::string_view s) { return dates->format(s, false, true); }));
  l.add("mask", helper([](std::string_view s) { return std::optional<std::string>(mask(trim(s))); }));
  l.add("upper", helper([](std::string_view s) { return std::optional<std::string>(change_case(s, true)); }));
  l.add("lower",
        helper([](std::string_view s) { return std::optional<std::string>(change_case(s, false)); }));
  l.add("truncate", helper([](std::string_view s) { return truncate(s); }));
  return l;
}

}  // namespace comms::templates
