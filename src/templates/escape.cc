#include "templates/escape.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace comms::templates::detail {
namespace {

constexpr std::array<bool, 256> html_specials() {
  std::array<bool, 256> t{};
  for (unsigned char c : {'&', '<', '>', '"', '\''}) t[c] = true;
  return t;
}

// Control characters, the quote, the backslash, and 0xE2 (the lead byte of U+2028 / U+2029, which
// JavaScript treats as line terminators).
constexpr std::array<bool, 256> json_specials() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = t['\\'] = true;
  t[0xE2] = true;
  return t;
}

constexpr auto kHtml = html_specials();
constexpr auto kJson = json_specials();

// Index of the first byte of s that HTML escaping replaces, else s.size(). Eight bytes at a time.
std::size_t first_html_special(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  auto has = [](std::uint64_t x, unsigned char c) {
    std::uint64_t v = x ^ (kOnes * c);
    return (v - kOnes) & ~v & kHigh;
  };
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    if (has(x, '&') | has(x, '<') | has(x, '>') | has(x, '"') | has(x, '\'')) break;
  }
  while (i < s.size() && !kHtml[static_cast<unsigned char>(s[i])]) ++i;
  return i;
}

void append_html(std::string& out, std::string_view s) {
  std::size_t first = first_html_special(s);
  if (first == s.size()) {
    out.append(s);
    return;
  }
  std::size_t start = 0;
  for (std::size_t i = first; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!kHtml[c]) continue;
    out.append(s.data() + start, i - start);
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      default:
        out.append("&#39;");
        break;
    }
    start = i + 1;
  }
  out.append(s.data() + start, s.size() - start);
}

void append_json(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!kJson[c]) continue;
    if (c == 0xE2) {
      bool separator = i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                       (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8;
      if (!separator) continue;
      out.append(s.data() + start, i - start);
      out.append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
      i += 2;
      start = i + 1;
      continue;
    }
    out.append(s.data() + start, i - start);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(u, 6);
      }
    }
    start = i + 1;
  }
  out.append(s.data() + start, s.size() - start);
}

}  // namespace

void append_escaped(std::string& out, std::string_view s, Escape e) {
  switch (e) {
    case Escape::html:
      return append_html(out, s);
    case Escape::json:
      return append_json(out, s);
    case Escape::none:
      out.append(s);
      return;
  }
}

}  // namespace comms::templates::detail
