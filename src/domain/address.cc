#include "domain/address.h"

#include <cctype>
#include <filesystem>
#include <string>

namespace comms::domain {

bool is_e164(std::string_view p) {
  if (p.size() < 9 || p.size() > 16 || p[0] != '+' || p[1] == '0') return false;
  for (size_t i = 1; i < p.size(); ++i)
    if (p[i] < '0' || p[i] > '9') return false;
  return true;
}

std::optional<std::string> normalize_phone(std::string_view text) {
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.') continue;
    if (c == '+' && digits.empty() && !plus) {
      plus = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    digits += c;
  }
  std::string e164;
  if (plus)
    e164 = "+" + digits;
  else if (digits.size() == 10 && digits[0] == '0')
    e164 = "+260" + digits.substr(1);  // Zambian national format
  else if (digits.size() == 12 && digits.starts_with("260"))
    e164 = "+" + digits;
  else
    return std::nullopt;
  if (!is_e164(e164)) return std::nullopt;
  return e164;
}

bool is_email(std::string_view e) {
  if (e.size() > 254 || e.size() < 3) return false;
  const auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || e.find('@', at + 1) != std::string_view::npos) return false;
  const auto domain = e.substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
  for (unsigned char c : e)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';') return false;
  return true;
}

bool is_known_timezone(std::string_view tz) {
  if (tz.empty() || tz.size() > 64 || tz.front() == '/' || tz.find("..") != std::string_view::npos) return false;
  for (unsigned char c : tz)
    if (!(std::isalnum(c) || c == '/' || c == '_' || c == '-' || c == '+')) return false;
  if (tz == "UTC") return true;
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path("/usr/share/zoneinfo") / std::string(tz), ec);
}

bool is_language_tag(std::string_view t) {
  size_t i = 0;
  while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i]))) ++i;
  if (i < 2 || i > 3) return false;
  if (i == t.size()) return true;
  if (t[i] != '-') return false;
  const size_t rest = t.size() - i - 1;
  if (rest < 2 || rest > 8) return false;
  for (size_t j = i + 1; j < t.size(); ++j)
    if (!std::isalnum(static_cast<unsigned char>(t[j]))) return false;
  return true;
}

}  // namespace comms::domain
