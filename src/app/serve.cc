#include "app/serve.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <thread>

#include "api/context.h"
#include "api/routes.h"
#include "app/dev_secret.h"
#include "common/log.h"
#include "common/metrics.h"
#include "delivery/devinbox/devinbox_channel.h"
#include "delivery/dispatcher.h"
#include "delivery/renderer.h"
#include "http/router.h"
#include "http/server.h"
#include "store/store.h"

namespace comms::app {
namespace {

namespace asio = boost::asio;

http::HttpOptions http_options(const Config& c) {
  http::HttpOptions o;
  o.listen = c.http_addr;
  o.body_limit = c.body_limit;
  o.access_log = c.access_log;
  o.cors.allowed_origins = c.cors_origins;
  o.rate_limit.enabled = c.rate_limit_rps > 0;
  o.rate_limit.rate_per_second = c.rate_limit_rps;
  o.rate_limit.burst = c.rate_limit_burst;
  o.auth.rs256_public_key_file = c.jwt_public_key_file;
  if (c.jwt_public_key_file.empty())
    o.auth.hs256_secret = c.jwt_secret.empty() ? load_or_create_dev_secret(c.data_dir) : c.jwt_secret;
  o.auth.issuer = c.jwt_issuer;
  o.auth.audience = c.jwt_audience;
  return o;
}

delivery::DispatcherOptions dispatcher_options(const Config& c) {
  delivery::DispatcherOptions o;
  o.concurrency = c.dispatch_concurrency;
  o.batch = c.dispatch_batch;
  o.max_attempts = c.max_attempts;
  o.retry_base = c.retry_base;
  o.retry_max = c.retry_max;
  o.lease = c.lease;
  o.poll = c.poll;
  return o;
}

std::string url_of(const std::string& addr, std::uint16_t port) {
  std::string host = addr.substr(0, addr.rfind(':'));
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  return "http://" + host + ":" + std::to_string(port);
}

}  // namespace

int serve(const Config& config) {
  const int threads = config.threads > 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  // Declared before the io_context: coroutine frames still queued when it is
  // destroyed may touch the registry and the store while unwinding.
  metrics::Registry registry;

  store::StoreOptions so;
  so.url = config.effective_db();
  so.synchronous_full = config.db_sync_full;
  auto store = store::open_store(so);
  const int migrated = store->migrate();
  if (store->backend() == "sqlite") {
    // One process owns an embedded database: whatever it left Sending was interrupted.
    int released = 0;
    store::write_sync(*store, [&](store::UnitOfWork& uow) { released = uow.notifications().release_all_claims(); });
    if (released > 0) log::info("dispatcher_recovered", {{"released", std::to_string(released)}});
  }
  auto store_batches = registry.gauge_callback("comms_store_write_batches", "Group commits since start",
                                               [&store] { return double(store->stats().write_batches); });
  auto store_units = registry.gauge_callback("comms_store_write_units", "Units of work written since start",
                                             [&store] { return double(store->stats().write_units); });

  const bool dev_inbox = config.dev_inbox != "off";
  delivery::Channels channels;
  if (dev_inbox) {
    auto inbox = std::make_shared<delivery::DevInboxChannel>(*store);
    channels[domain::Channel::sms] = inbox;
    channels[domain::Channel::email] = inbox;
    channels[domain::Channel::inapp] = inbox;
  }
  auto& outcomes = registry.counter("comms_notifications_processed_total",
                                    "Send attempts by channel and resulting status", {"channel", "status"});
  delivery::LiteralRenderer renderer;

  {
    asio::io_context io(threads);
    delivery::Dispatcher dispatcher(io, *store, channels, renderer, dispatcher_options(config),
                                    [&outcomes](const domain::Notification& n, const delivery::SendResult&) {
                                      outcomes.labels({domain::to_string(n.channel), domain::to_string(n.status)})
                                          .inc();
                                    });

    api::Context ctx{*store};
    ctx.wake_dispatcher = [&dispatcher] { dispatcher.wake(); };
    ctx.dev_inbox_enabled = dev_inbox;
    ctx.metrics_public = config.metrics_public;
    ctx.metrics = &registry;

    http::Router router;
    api::register_routes(router, ctx);
    http::Server server(io, http_options(config), std::move(router), registry);
    server.start();
    dispatcher.start();

    const std::string url = url_of(config.http_addr, server.port());
    log::info("listening", {{"url", url},
                            {"db", store->backend()},
                            {"migrations_applied", std::to_string(migrated)},
                            {"dev_inbox", dev_inbox ? "on" : "off"},
                            {"threads", std::to_string(threads)}});
    std::fprintf(stdout,
                 "IntelliFin Communications Service listening on %s\n"
                 "  get a token:   export TOKEN=$(build/comms token --sub ops --role admin)\n"
                 "  send:          curl -X POST %s/api/v1/notifications -H \"Authorization: Bearer $TOKEN\" \\\n"
                 "                   -H 'Content-Type: application/json' \\\n"
                 "                   -d '{\"recipientId\":\"c1\",\"channel\":\"sms\",\"to\":\"+260971234567\","
                 "\"content\":\"Hello\"}'\n"
                 "  dev inbox:     curl %s/api/v1/dev-inbox -H \"Authorization: Bearer $TOKEN\"\n",
                 url.c_str(), url.c_str(), url.c_str());
    std::fflush(stdout);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      log::info("shutting_down", {{"signal", std::to_string(sig)}});
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            co_await server.stop(config.shutdown_timeout);
            co_await dispatcher.stop(config.shutdown_timeout);
            io.stop();
          },
          asio::detached);
    });

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : pool) t.join();
  }
  store->close();
  log::info("stopped");
  return 0;
}

}  // namespace comms::app
