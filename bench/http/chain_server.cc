// comms_http's Server with the full standard middleware chain and one POST route shaped like the
// real intake endpoint (service role, JSON 202), answering what bench_bare_server answers. Measured
// against it, it shows what the server and middleware cost per request, without a store behind.
//
//   bench_http_chain 127.0.0.1:8082 2      # prints a service token to use as a Bearer
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/metrics.h"
#include "http/jwt.h"
#include "http/server.h"

using namespace comms;

int main(int argc, char** argv) {
  const std::string address = argc > 1 ? argv[1] : "127.0.0.1:8082";
  const int threads =
      argc > 2 ? std::max(1, std::atoi(argv[2])) : static_cast<int>(std::thread::hardware_concurrency());
  log::init(log::Format::text, log::Level::warn);

  http::HttpOptions o;
  o.listen = address;
  o.access_log = false;
  o.rate_limit.rate_per_second = 1e9;  // one client IP drives the whole load
  o.rate_limit.burst = 1e9;
  o.cors.allowed_origins = {"https://app.example.zm"};
  o.auth.hs256_secret = "bench-secret-bench-secret-bench-secret";

  http::Router router;
  router.add("POST", "/api/v1/notifications", http::Access::roles_of({http::Role::service}),
             [](http::Request& req) -> boost::asio::awaitable<http::Response> {
               http::Response r;
               r.status = 202;
               r.headers.emplace_back("Content-Type", "application/json");
               r.body = R"({"notificationId":"6f1c2a7e-0b7d-4a55-9d1e-3f1f2a9c8b10","status":"Pending"})";
               co_return r;
             });

  metrics::Registry registry;
  boost::asio::io_context ioc(threads);
  http::Server server(ioc, o, std::move(router), registry);
  server.start();
  std::printf(
      "listening on port %u with %d threads\ntoken %s\n", server.port(), threads,
      http::mint_hs256(o.auth.hs256_secret, "bench", http::Role::service, std::chrono::hours(24)).c_str());
  std::fflush(stdout);

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](auto, auto) { ioc.stop(); });
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
}
