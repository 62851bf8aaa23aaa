#include "redis/redis_bucket_store.h"

#include <openssl/evp.h>

#include <cmath>
#include <cstdio>

namespace comms::redis {
namespace {

// KEYS[1] bucket; ARGV rate per second, burst. Returns {1, 0} when a token was taken, else
// {0, ms until one is back}. Fractional tokens are kept as strings (Lua numbers are doubles).
constexpr const char* kScript = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ms')
local tokens = tonumber(b[1])
local last = tonumber(b[2])
if tokens == nil or last == nil then
  tokens = burst
  last = now
end
tokens = math.min(burst, tokens + math.max(0, now - last) / 1000 * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
elseif rate > 0 then
  wait = math.ceil((1 - tokens) / rate * 1000)
else
  wait = 3600000
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ms', tostring(now))
local ttl = 3600000
if rate > 0 then ttl = math.ceil(burst / rate * 1000) + 1000 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, wait}
)lua";

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

const std::string& RedisBucketStore::script() {
  static const std::string s = kScript;
  return s;
}

const std::string& RedisBucketStore::script_sha1() {
  static const std::string hex = [] {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(script().data(), script().size(), digest, &len, EVP_sha1(), nullptr);
    std::string out;
    char b[3];
    for (unsigned int i = 0; i < len; ++i) {
      const unsigned char c = digest[i];
      std::snprintf(b, sizeof b, "%02x", c);
      out += b;
    }
    return out;
  }();
  return hex;
}

RedisBucketStore::RedisBucketStore(Redis& redis, metrics::Registry& registry,
                                   std::shared_ptr<http::BucketStore> fallback)
    : redis_(redis),
      fallback_(std::move(fallback)),
      fallbacks_(registry
                     .counter("comms_rate_limit_fallbacks_total",
                              "Rate-limit decisions taken from the local buckets because Redis did not answer")
                     .unlabelled()) {}

boost::asio::awaitable<http::RateDecision> RedisBucketStore::take(std::string_view key, http::RateLimit limit) {
  const std::string owned(key);
  const std::string k = redis_.prefix() + "rl:" + owned;
  const std::string rate = format_number(limit.rate_per_second);
  const std::string burst = format_number(limit.burst);
  Result r = co_await redis_.client().run("rate_limit", [&](Connection& conn) {
    Result first = conn.run({{"EVALSHA", script_sha1(), "1", k, rate, burst}});
    if (first.ok() && !first.replies.empty() && first.replies[0].is_error() &&
        first.replies[0].str.rfind("NOSCRIPT", 0) == 0)
      return conn.run({{"EVAL", script(), "1", k, rate, burst}});
    return first;
  });
  if (r.ok() && !r.replies.empty() && r.replies[0].type == Reply::Type::array && r.replies[0].elements.size() == 2) {
    const auto& e = r.replies[0].elements;
    http::RateDecision d;
    d.allowed = e[0].integer == 1;
    d.retry_after = std::chrono::milliseconds(d.allowed ? 0 : e[1].integer);
    co_return d;
  }
  fallbacks_.inc();
  co_return co_await fallback_->take(owned, limit);
}

}  // namespace comms::redis
