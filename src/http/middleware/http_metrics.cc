#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "common/metrics.h"
#include "http/middleware.h"

namespace comms::http {
namespace {

// Labels stay bounded: the route pattern (never the raw path) and a fixed set of methods.
std::string_view method_label(std::string_view m) {
  for (std::string_view known : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"}) {
    if (m == known) return known;
  }
  return "other";
}

class Metrics final : public Middleware {
 public:
  explicit Metrics(metrics::Registry& r)
      : requests_(r.counter("http_requests_total", "HTTP requests by method, route and status.",
                            {"method", "route", "status"})),
        duration_(r.histogram("http_request_duration_seconds",
                              "HTTP request latency by method, route and status.",
                              {"method", "route", "status"})),
        in_flight_(r.gauge("http_requests_in_flight", "HTTP requests being handled.").unlabelled()) {}

  boost::asio::awaitable<Response> handle(Exchange& ex, Next next) const override {
    in_flight_.inc();
    struct Leave {
      metrics::Gauge& g;
      ~Leave() { g.dec(); }
    } leave{in_flight_};
    Response r = co_await next(ex);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - ex.start).count();
    char status[8];
    const auto end = std::to_chars(status, status + sizeof status, r.status).ptr;
    const std::string_view route =
        ex.request.route.empty() ? std::string_view("unmatched") : ex.request.route;
    const std::string_view labels[] = {method_label(ex.request.method), route,
                                       std::string_view(status, end - status)};
    requests_.labels(labels).inc();
    duration_.labels(labels).observe(seconds);
    co_return r;
  }

 private:
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& duration_;
  metrics::Gauge& in_flight_;
};

}  // namespace

std::unique_ptr<Middleware> metrics_middleware(metrics::Registry& registry) {
  return std::make_unique<Metrics>(registry);
}

}  // namespace comms::http
