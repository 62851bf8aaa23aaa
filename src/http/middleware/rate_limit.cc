#include <boost/asio/use_awaitable.hpp>

#include "http/bucket_store.h"
#include "http/middleware.h"

namespace comms::http {
namespace {

// One token bucket per client IP; an empty bucket answers 429 with Retry-After in whole seconds.
class RateLimiter final : public Middleware {
 public:
  RateLimiter(RateLimitOptions o, std::shared_ptr<BucketStore> store)
      : limit_{o.rate_per_second, o.burst}, store_(std::move(store)) {}

  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    const RateDecision d = co_await store_->take(ex.request.remote_ip, limit_);
    if (d.allowed) co_return co_await next(ex);
    const long long seconds = std::max<long long>(1, (d.retry_after.count() + 999) / 1000);
    Response r = Response::error(429, "rate_limited", "too many requests", ex.request.request_id);
    r.headers.emplace_back("Retry-After", std::to_string(seconds));
    co_return r;
  }

 private:
  RateLimit limit_;
  std::shared_ptr<BucketStore> store_;
};

}  // namespace

std::unique_ptr<Middleware> rate_limit_middleware(RateLimitOptions options,
                                                  std::shared_ptr<BucketStore> store) {
  return std::make_unique<RateLimiter>(options, std::move(store));
}

}  // namespace comms::http
