#include <boost/asio/use_awaitable.hpp>

#include "http/bucket_store.h"
#include "http/jwt.h"
#include "http/middleware.h"

namespace comms::http {
namespace {

// The innermost step: the handler, an upgrade's hand-over marker, or 404/405.
boost::asio::awaitable<Response> dispatch(Exchange& ex) {
  if (ex.upgrade) {
    Response r;
    r.status = 101;
    co_return r;
  }
  if (ex.route) co_return co_await ex.route->handler(ex.request);
  if (!ex.allowed.empty()) {
    std::string allow;
    for (const auto& m : ex.allowed) {
      if (!allow.empty()) allow += ", ";
      allow += m;
    }
    Response r =
        Response::error(405, "method_not_allowed", "method not allowed for this path", ex.request.request_id);
    r.headers.emplace_back("Allow", std::move(allow));
    co_return r;
  }
  co_return Response::error(404, "not_found", "no such resource", ex.request.request_id);
}

}  // namespace

boost::asio::awaitable<Response> Next::operator()(Exchange& ex) const {
  if (index_ < chain_->middleware_.size())
    return chain_->middleware_[index_]->handle(ex, Next(chain_, index_ + 1));
  return dispatch(ex);
}

Chain standard_chain(const HttpOptions& options, metrics::Registry& registry,
                     std::shared_ptr<BucketStore> buckets) {
  if (!buckets) {
    buckets =
        std::make_shared<MemoryBucketStore>(options.rate_limit.max_buckets, options.rate_limit.idle_eviction);
  }
  Chain chain;
  chain.add(request_id_middleware());
  if (options.access_log) chain.add(access_log_middleware());
  chain.add(metrics_middleware(registry));
  if (!options.cors.allowed_origins.empty()) chain.add(cors_middleware(options.cors));
  if (options.rate_limit.enabled) chain.add(rate_limit_middleware(options.rate_limit, buckets));
  chain.add(api_version_middleware(options.api_versions));
  chain.add(auth_middleware(std::make_shared<const TokenVerifier>(options.auth)));
  if (options.rate_limit.client_rate_per_second > 0)
    chain.add(client_rate_limit_middleware(options.rate_limit, std::move(buckets)));
  chain.add(errors_middleware());
  return chain;
}

}  // namespace comms::http
