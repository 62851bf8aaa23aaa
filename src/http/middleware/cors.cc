#include <algorithm>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "http/middleware.h"

namespace comms::http {
namespace {

// Allowed origins get their origin echoed (or "*" when configured without credentials); others
// get no CORS headers at all and are left to the browser to refuse. Preflights from allowed
// origins are answered here, before rate limiting and auth.
class Cors final : public Middleware {
 public:
  explicit Cors(CorsOptions o) : o_(std::move(o)) {
    any_ = std::find(o_.allowed_origins.begin(), o_.allowed_origins.end(), "*") != o_.allowed_origins.end();
    if (any_ && o_.allow_credentials) {
      throw std::invalid_argument("cors: the \"*\" origin cannot be combined with credentials");
    }
    max_age_ = std::to_string(o_.max_age.count());
  }

  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    const auto origin = ex.request.header("Origin");
    if (!origin || !allowed(*origin)) co_return co_await next(ex);

    if (ex.request.method == "OPTIONS" && ex.request.header("Access-Control-Request-Method")) {
      Response r;
      r.status = 204;
      add_origin(r, *origin);
      r.headers.emplace_back("Access-Control-Allow-Methods", o_.allowed_methods);
      const auto asked = ex.request.header("Access-Control-Request-Headers");
      r.headers.emplace_back("Access-Control-Allow-Headers",
                             asked ? std::string(*asked) : o_.allowed_headers);
      r.headers.emplace_back("Access-Control-Max-Age", max_age_);
      co_return r;
    }
    Response r = co_await next(ex);
    add_origin(r, *origin);
    if (!o_.expose_headers.empty())
      r.headers.emplace_back("Access-Control-Expose-Headers", o_.expose_headers);
    co_return r;
  }

 private:
  bool allowed(std::string_view origin) const {
    if (any_) return true;
    return std::find(o_.allowed_origins.begin(), o_.allowed_origins.end(), origin) !=
           o_.allowed_origins.end();
  }

  void add_origin(Response& r, std::string_view origin) const {
    if (any_) {
      r.headers.emplace_back("Access-Control-Allow-Origin", "*");
      return;
    }
    r.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    r.headers.emplace_back("Vary", "Origin");
    if (o_.allow_credentials) r.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }

  CorsOptions o_;
  bool any_ = false;
  std::string max_age_;
};

}  // namespace

std::unique_ptr<Middleware> cors_middleware(CorsOptions options) {
  return std::make_unique<Cors>(std::move(options));
}

}  // namespace comms::http
