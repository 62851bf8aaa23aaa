#include "redis/redis.h"

#include "common/ids.h"

namespace comms::redis {

Redis::Redis(RedisOptions options, metrics::Registry& registry)
    : options_(std::move(options)),
      instance_id_(new_uuid()),
      health_(registry, options_.url.redacted()),
      client_({options_.url, options_.timeout, options_.connections}, health_),
      subscriber_(options_.url, options_.timeout, health_) {}

Redis::~Redis() { stop(); }

void Redis::start() { subscriber_.start(); }

void Redis::stop() {
  subscriber_.stop();
  client_.stop();
}

std::string scan_pattern(std::string_view prefix, std::string_view glob) {
  std::string out;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  for (std::size_t i = 0; i < glob.size(); ++i) {
    const char c = glob[i];
    if (c == '\\') {
      out += '\\';
      if (i + 1 < glob.size()) out += glob[++i];
      else out += '\\';  // a trailing '\' is a literal backslash
    } else if (c == '[' || c == ']') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace comms::redis
