#include "redis/url.h"

#include <charconv>
#include <stdexcept>

namespace comms::redis {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, const char* what) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) throw std::invalid_argument(std::string("bad percent-escape in the ") + what);
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

int parse_number(std::string_view s, int lo, int hi, const char* what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi)
    throw std::invalid_argument(std::string("bad ") + what + " '" + std::string(s) + "'");
  return v;
}

}  // namespace

RedisUrl parse_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme)
    throw std::invalid_argument("expected redis://[:password@]host:port[/db]");
  std::string_view rest = url.substr(scheme.size());
  RedisUrl out;
  // Credentials end at the last '@', so a password may contain '@' unescaped.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = cred.find(':');
    if (colon == std::string_view::npos) throw std::invalid_argument("expected :password@ before the host");
    out.user = percent_decode(cred.substr(0, colon), "user");
    out.password = percent_decode(cred.substr(colon + 1), "password");
  }
  std::string_view hostport = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) out.db = parse_number(db, 0, 1 << 20, "database number");
  }
  if (!hostport.empty() && hostport.front() == '[') {  // [v6 address]:port
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unclosed '[' in the host");
    out.host = std::string(hostport.substr(1, close - 1));
    hostport = hostport.substr(close + 1);
    if (!hostport.empty()) {
      if (hostport.front() != ':') throw std::invalid_argument("expected :port after the host");
      out.port = parse_number(hostport.substr(1), 1, 65535, "port");
    }
  } else if (const auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    out.host = std::string(hostport.substr(0, colon));
    out.port = parse_number(hostport.substr(colon + 1), 1, 65535, "port");
  } else {
    out.host = std::string(hostport);
  }
  if (out.host.empty()) throw std::invalid_argument("missing host");
  return out;
}

std::string RedisUrl::redacted() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = "redis://";
  if (!password.empty() || !user.empty()) out += "***@";
  out += v6 ? "[" + host + "]" : host;
  out += ":" + std::to_string(port) + "/" + std::to_string(db);
  return out;
}

}  // namespace comms::redis
