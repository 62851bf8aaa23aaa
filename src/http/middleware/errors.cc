#include <boost/asio/use_awaitable.hpp>
#include <exception>

#include "common/log.h"
#include "http/middleware.h"

namespace comms::http {
namespace {

// Whatever escapes a handler becomes a generic 500; the details go to the log, never the client.
class Errors final : public Middleware {
 public:
  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    std::string what;
    try {
      co_return co_await next(ex);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "non-standard exception";
    }
    log::error("http_handler_failed", {{"request_id", ex.request.request_id},
                                       {"route", ex.request.route},
                                       {"method", ex.request.method},
                                       {"error", what}});
    co_return Response::error(500, "internal_error", "internal server error", ex.request.request_id);
  }
};

}  // namespace

std::unique_ptr<Middleware> errors_middleware() {
  return std::make_unique<Errors>();
}

}  // namespace comms::http
