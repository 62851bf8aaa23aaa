#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "common/log.h"
#include "http/middleware.h"

namespace comms::http {
namespace {

// One line per request. The path is logged without its query string (tokens travel there as
// access_token) and bodies are never logged.
class AccessLog final : public Middleware {
 public:
  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    Response r = co_await next(ex);
    if (!log::enabled(log::Level::info)) co_return r;
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ex.start).count();
    char dur[32];
    const auto dur_end = std::to_chars(dur, dur + sizeof dur, ms, std::chars_format::fixed, 3).ptr;
    char status[8];
    const auto status_end = std::to_chars(status, status + sizeof status, r.status).ptr;
    const Request& q = ex.request;
    log::info("http_request", {{"method", q.method},
                               {"path", q.path},
                               {"route", q.route},
                               {"status", std::string_view(status, status_end - status)},
                               {"duration_ms", std::string_view(dur, dur_end - dur)},
                               {"request_id", q.request_id},
                               {"remote", q.remote_ip}});
    co_return r;
  }
};

}  // namespace

std::unique_ptr<Middleware> access_log_middleware() {
  return std::make_unique<AccessLog>();
}

}  // namespace comms::http
