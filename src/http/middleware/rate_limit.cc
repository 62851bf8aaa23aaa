#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <string>

#include "http/bucket_store.h"
#include "http/middleware.h"

namespace comms::http {
namespace {

// One token bucket per key; an empty bucket answers 429 with Retry-After in whole seconds. `key` gives
// the bucket of an exchange (nullopt lets it through uncounted).
class BucketLimiter final : public Middleware {
 public:
  using Key = std::optional<std::string> (*)(const Exchange&);
  BucketLimiter(RateLimit limit, std::shared_ptr<BucketStore> store, Key key, const char* message)
      : limit_(limit), store_(std::move(store)), key_(key), message_(message) {}

  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    const std::optional<std::string> key = key_(ex);
    if (!key) co_return co_await next(ex);
    const RateDecision d = co_await store_->take(*key, limit_);
    if (d.allowed) co_return co_await next(ex);
    const long long seconds = std::max<long long>(1, (d.retry_after.count() + 999) / 1000);
    Response r = Response::error(429, "rate_limited", message_, ex.request.request_id);
    r.headers.emplace_back("Retry-After", std::to_string(seconds));
    co_return r;
  }

 private:
  RateLimit limit_;
  std::shared_ptr<BucketStore> store_;
  Key key_;
  const char* message_;
};

}  // namespace

std::unique_ptr<Middleware> rate_limit_middleware(RateLimitOptions options,
                                                  std::shared_ptr<BucketStore> store) {
  return std::make_unique<BucketLimiter>(
      RateLimit{options.rate_per_second, options.burst}, std::move(store),
      [](const Exchange& ex) -> std::optional<std::string> { return ex.request.remote_ip; },
      "too many requests");
}

std::unique_ptr<Middleware> client_rate_limit_middleware(RateLimitOptions options,
                                                         std::shared_ptr<BucketStore> store) {
  return std::make_unique<BucketLimiter>(
      RateLimit{options.client_rate_per_second, options.client_burst}, std::move(store),
      [](const Exchange& ex) -> std::optional<std::string> {
        // No subject: a public route, or auth already answered.
        const std::string& sub = ex.request.principal.sub;
        if (sub.empty()) return std::nullopt;
        return "client:" + sub;
      },
      "too many requests for this client");
}

}  // namespace comms::http
