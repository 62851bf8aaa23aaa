#include <boost/asio/use_awaitable.hpp>

#include "http/bucket_store.h"
#include "http/middleware.h"

namespace comms::http {
namespace {

// One token bucket per key (the client IP, or the token's subject); an empty bucket answers 429 with
// Retry-After in whole seconds.
Response too_many(const Exchange& ex, const RateDecision& d, const char* message) {
  const long long seconds = std::max<long long>(1, (d.retry_after.count() + 999) / 1000);
  Response r = Response::error(429, "rate_limited", message, ex.request.request_id);
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

class RateLimiter final : public Middleware {
 public:
  RateLimiter(RateLimitOptions o, std::shared_ptr<BucketStore> store)
      : limit_{o.rate_per_second, o.burst}, store_(std::move(store)) {}

  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    const RateDecision d = co_await store_->take(ex.request.remote_ip, limit_);
    if (d.allowed) co_return co_await next(ex);
    co_return too_many(ex, d, "too many requests");
  }

 private:
  RateLimit limit_;
  std::shared_ptr<BucketStore> store_;
};

class ClientRateLimiter final : public Middleware {
 public:
  ClientRateLimiter(RateLimitOptions o, std::shared_ptr<BucketStore> store)
      : limit_{o.client_rate_per_second, o.client_burst}, store_(std::move(store)) {}

  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    const std::string& sub = ex.request.principal.sub;
    if (sub.empty()) co_return co_await next(ex);  // public route, or auth already answered
    const RateDecision d = co_await store_->take("client:" + sub, limit_);
    if (d.allowed) co_return co_await next(ex);
    co_return too_many(ex, d, "too many requests for this client");
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

std::unique_ptr<Middleware> client_rate_limit_middleware(RateLimitOptions options,
                                                         std::shared_ptr<BucketStore> store) {
  return std::make_unique<ClientRateLimiter>(options, std::move(store));
}

}  // namespace comms::http
