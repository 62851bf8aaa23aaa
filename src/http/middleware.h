// The request pipeline: an ordered chain of middleware around the route handler.
//
// The server reads a request, matches it against the Router (or the upgrade handler's prefix),
// fills an Exchange and runs the Chain. Each middleware may answer by itself (a 429, a 401, a
// preflight's 204) or call `next` and then adjust the response. The innermost step dispatches:
// 404/405, the route's handler, or, for a WebSocket upgrade, a 101 marker that tells the server
// to hand the connection over (see http/upgrade.h).
//
// Threading: a Chain is immutable once built and may run concurrently for many exchanges; each
// middleware is thread-safe. An Exchange belongs to one connection coroutine.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/options.h"
#include "http/router.h"

namespace comms::metrics {
class Registry;
}

namespace comms::http {

class BucketStore;
class TokenVerifier;

// One request on its way through the chain.
struct Exchange {
  Request request;
  const Route* route = nullptr;      // the matched route; nullptr: 404/405 (or an upgrade)
  std::vector<std::string> allowed;  // the path's methods when it matched for another method (405)
  const Access* access = nullptr;    // what auth enforces: the route's or the upgrade's; nullptr: nothing
  bool upgrade = false;              // a WebSocket upgrade bound for the upgrade handler
  std::chrono::steady_clock::time_point start;  // when the request's headers were read
};

class Chain;

// The rest of the chain. Cheap to copy; calling it creates only the callee's coroutine frame.
class Next {
 public:
  boost::asio::awaitable<Response> operator()(Exchange& ex) const;

 private:
  friend class Chain;
  Next(const Chain* chain, std::size_t index) : chain_(chain), index_(index) {}
  const Chain* chain_;
  std::size_t index_;
};

class Middleware {
 public:
  virtual ~Middleware() = default;
  virtual boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const = 0;
};

class Chain {
 public:
  void add(std::unique_ptr<Middleware> m) { middleware_.push_back(std::move(m)); }
  // Runs every middleware, then dispatches. Exceptions from handlers are turned into 500s by the
  // errors middleware; ones from middleware themselves propagate.
  boost::asio::awaitable<Response> run(Exchange& ex) const { return Next(this, 0)(ex); }

 private:
  friend class Next;
  std::vector<std::unique_ptr<Middleware>> middleware_;
};

// The service's chain, in this order: request id, access log, metrics, CORS, rate limit (per IP),
// API version, auth, client rate limit (per token subject, when configured), errors. `buckets` nullptr: an in-memory store sized from options.rate_limit.
// Throws std::invalid_argument on inconsistent options (CORS "*" with credentials, auth keys).
Chain standard_chain(const HttpOptions& options, metrics::Registry& registry,
                     std::shared_ptr<BucketStore> buckets);

// The pieces, for tests and for custom chains.
std::unique_ptr<Middleware> request_id_middleware();
std::unique_ptr<Middleware> access_log_middleware();
std::unique_ptr<Middleware> metrics_middleware(metrics::Registry& registry);
std::unique_ptr<Middleware> cors_middleware(CorsOptions options);
std::unique_ptr<Middleware> rate_limit_middleware(RateLimitOptions options,
                                                  std::shared_ptr<BucketStore> store);
// Keyed by the authenticated principal's subject; requests without one pass untouched.
std::unique_ptr<Middleware> client_rate_limit_middleware(RateLimitOptions options,
                                                         std::shared_ptr<BucketStore> store);
std::unique_ptr<Middleware> api_version_middleware(std::vector<int> supported);
std::unique_ptr<Middleware> auth_middleware(std::shared_ptr<const TokenVerifier> verifier);
std::unique_ptr<Middleware> errors_middleware();

// X-Request-Id handling shared with the server's own early errors: the client's id when it is
// 1..128 characters of [A-Za-z0-9._-], else a new UUID.
std::string resolve_request_id(std::optional<std::string_view> client_id);

}  // namespace comms::http
