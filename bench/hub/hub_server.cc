// The hub as bench/hub/run.sh measures it: http::Server (full middleware chain, access log off,
// no rate limit) with the Hub attached at /hubs/notifications, and
//
//   POST /bench/publish {"group":"branch:bench","content":"..."}   hub.notify() of one notification
//                                                                  to that group; answers
//                                                                  {"delivered":bool}
//
// which is the in-app channel's call without the dispatcher and the store in front of it, so that
// it matches the socket.io reference (an HTTP trigger, then io.to(room).emit).
//
//   bench_hub_server 127.0.0.1:0 2 SECRET     # prints "listening on port P"
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"
#include "http/server.h"
#include "hub/hub.h"
#include "store/store.h"

using namespace comms;

int main(int argc, char** argv) {
  const std::string address = argc > 1 ? argv[1] : "127.0.0.1:0";
  const int threads = argc > 2 ? std::max(1, std::atoi(argv[2])) : 2;
  const std::string secret = argc > 3 ? argv[3] : "bench-secret-bench-secret-bench-secret";
  log::init(log::Format::text, log::Level::warn);

  metrics::Registry registry;
  store::StoreOptions so;
  so.url = ":memory:";
  auto store = store::open_store(so);
  store->migrate();
  {
    boost::asio::io_context ioc(threads);
    hub::Hub hub(ioc, *store, registry, hub::HubOptions{});

    http::HttpOptions o;
    o.listen = address;
    o.access_log = false;
    o.rate_limit.enabled = false;  // every load client shares one IP
    o.auth.hs256_secret = secret;
    o.auth.cache_capacity = 100'000;

    http::Router router;
    router.add("POST", "/bench/publish", http::Access::anyone(),
               [&hub](http::Request& req) -> boost::asio::awaitable<http::Response> {
                 const auto body = boost::json::parse(req.body).as_object();
                 domain::Notification n;
                 n.id = new_uuid();
                 n.recipient_id = std::string(body.at("group").as_string());
                 n.channel = domain::Channel::inapp;
                 n.subject = "Loan update";
                 n.content = std::string(body.at("content").as_string());
                 n.created_at = now_ms();
                 const bool delivered = co_await hub.notify(std::move(n));
                 co_return http::Response::json(200, boost::json::object{{"delivered", delivered}});
               });
    http::Server server(ioc, o, std::move(router), registry);
    hub.attach(server);
    server.start();
    hub.start();
    std::printf("listening on port %u\n", server.port());
    std::fflush(stdout);

    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { ioc.stop(); });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
  }
  store->close();
}
