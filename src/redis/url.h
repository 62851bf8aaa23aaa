// COMMS_REDIS URLs: redis://[[user]:password@]host[:port][/db].
//
// The password is percent-decoded. It must never reach a log line or an error message: use
// RedisUrl::redacted() wherever a URL is shown. Pure; thread-safe.
#pragma once
#include <string>
#include <string_view>

namespace comms::redis {

struct RedisUrl {
  std::string host;
  int port = 6379;
  std::string user;      // empty: AUTH with the password alone (requirepass)
  std::string password;  // empty: no AUTH
  int db = 0;

  // "redis://host:port/db", with "***@" in place of the credentials when there are any.
  std::string redacted() const;
};

// Throws std::invalid_argument naming what is wrong (never quoting the password).
RedisUrl parse_url(std::string_view url);

}  // namespace comms::redis
