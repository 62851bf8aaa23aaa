#include "domain/sms_encoding.h"

#include <array>
#include <cstdint>

namespace comms::domain {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Septets per code point: 1 for the GSM 03.38 default alphabet, 2 for the extension table, 0 for neither.
int gsm_septets(char32_t c) {
  static constexpr auto kAscii = [] {
    std::array<std::uint8_t, 128> t{};
    for (int c = 0x20; c < 0x7F; ++c) t[c] = 1;
    t['\n'] = t['\r'] = 1;
    t['`'] = 0;  // not in the GSM alphabet
    for (unsigned char c : {'^', '{', '}', '\\', '[', ']', '~', '|'}) t[c] = 2;
    t['\f'] = 2;
    return t;
  }();
  if (c < 0x80) return kAscii[c];
  switch (c) {
    case U'£':
    case U'¥':
    case U'è':
    case U'é':
    case U'ù':
    case U'ì':
    case U'ò':
    case U'Ç':
    case U'Ø':
    case U'ø':
    case U'Å':
    case U'å':
    case U'Δ':
    case U'Φ':
    case U'Γ':
    case U'Λ':
    case U'Ω':
    case U'Π':
    case U'Ψ':
    case U'Σ':
    case U'Θ':
    case U'Ξ':
    case U'Æ':
    case U'æ':
    case U'ß':
    case U'É':
    case U'¤':
    case U'¡':
    case U'Ä':
    case U'Ö':
    case U'Ñ':
    case U'Ü':
    case U'§':
    case U'¿':
    case U'ä':
    case U'ö':
    case U'ñ':
    case U'ü':
    case U'à':
      return 1;
    case U'€':
      return 2;
    default:
      return 0;
  }
}

// Decodes one code point at s[i], advancing i. Invalid input yields U+FFFD and skips the longest invalid
// prefix (at least one byte), so decoding always progresses.
char32_t next(std::string_view s, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int len;
  char32_t c, min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, c = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, c = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, c = b0 & 0x07, min = 0x10000;
  } else {
    ++i;
    return kReplacement;
  }
  std::size_t k = i + 1;
  for (int n = 1; n < len; ++n, ++k) {
    if (k >= s.size() || (byte(k) & 0xC0) != 0x80) {
      i = k;
      return kReplacement;
    }
    c = (c << 6) | (byte(k) & 0x3F);
  }
  i = k;
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return kReplacement;
  return c;
}

// Parts needed when each character of the given weight is placed whole.
template <typename Weight>
int pack(std::string_view s, int per_part, Weight weight) {
  int parts = 1, used = 0;
  for (std::size_t i = 0; i < s.size();) {
    int w = weight(next(s, i));
    if (used + w > per_part) {
      ++parts;
      used = 0;
    }
    used += w;
  }
  return parts;
}

}  // namespace

SmsEncoding analyze_sms(std::string_view utf8) {
  int septets = 0, units = 0;
  bool gsm = true;
  for (std::size_t i = 0; i < utf8.size();) {
    char32_t c = next(utf8, i);
    int s = gsm_septets(c);  // U+FFFD (also what invalid input decodes to) is not GSM
    if (s == 0) gsm = false;
    septets += s;
    units += c >= 0x10000 ? 2 : 1;
  }
  SmsEncoding r;
  if (gsm) {
    r.encoding = SmsCharset::gsm7;
    r.characters = septets;
    r.segments = septets == 0 ? 0 : septets <= 160 ? 1 : pack(utf8, 153, gsm_septets);
  } else {
    r.encoding = SmsCharset::ucs2;
    r.characters = units;
    r.segments = units <= 70 ? 1 : pack(utf8, 67, [](char32_t c) { return c >= 0x10000 ? 2 : 1; });
  }
  return r;
}

}  // namespace comms::domain
