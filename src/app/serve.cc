#include "app/serve.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdio>
#include <thread>

#include "api/context.h"
#include "api/hub_routes.h"
#include "api/intake_routes.h"
#include "api/provider_routes.h"
#include "api/routes.h"
#include "app/dev_secret.h"
#include "app/scale_out.h"
#include "common/log.h"
#include "common/metrics.h"
#include "bus/make_bus.h"
#include "bus/outbox_relay.h"
#include "cache/lru_cache.h"
#include "delivery/inapp/inapp_channel.h"
#include "delivery/providers.h"
#include "hub/hub.h"
#include "intake/intake.h"
#include "intake/rules.h"
#include "delivery/dispatcher.h"
#include "delivery/renderer.h"
#include "http/router.h"
#include "http/server.h"
#include "store/store.h"
#include "templating/defaults.h"
#include "templating/template_renderer.h"
#include "templating/template_service.h"
#include "common/thread_name.h"

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
  o.rate_limit.client_rate_per_second = c.client_rate_limit_rps;
  o.rate_limit.client_burst = c.client_rate_limit_burst;
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

delivery::ProvidersOptions providers_options(const Config& c) {
  delivery::ProvidersOptions o;
  o.africastalking.username = c.at_username;
  o.africastalking.api_key = c.at_api_key;
  o.africastalking.sender_id = c.at_sender_id;
  o.africastalking.base_url = c.at_base_url;
  o.africastalking.enqueue = c.at_enqueue;
  o.africastalking.batch_max = c.at_batch_max;
  o.africastalking.batch_window = c.at_batch_window;
  o.africastalking.concurrency = c.at_concurrency;
  o.kannel.url = c.kannel_url;
  o.kannel.username = c.kannel_username;
  o.kannel.password = c.kannel_password;
  o.kannel.from = c.kannel_from;
  o.kannel.dlr_url = c.kannel_dlr_url;
  o.kannel.callback_token = c.kannel_callback_token;
  o.smtp.url = c.smtp_url;
  o.smtp.username = c.smtp_username;
  o.smtp.password = c.smtp_password;
  o.smtp.from = c.smtp_from;
  o.smtp.reply_to = c.smtp_reply_to;
  o.smtp.starttls = c.smtp_starttls == "required" ? delivery::StartTls::required
                    : c.smtp_starttls == "off"    ? delivery::StartTls::off
                                                  : delivery::StartTls::automatic;
  o.smtp.ca_file = c.smtp_ca_file;
  o.breaker_failures = c.breaker_failures;
  o.breaker_open = c.breaker_open;
  o.timeout = c.provider_timeout;
  o.dev_inbox = c.dev_inbox == "on"    ? delivery::DevInboxMode::always
                : c.dev_inbox == "off" ? delivery::DevInboxMode::never
                                       : delivery::DevInboxMode::automatic;
  return o;
}

hub::HubOptions hub_options(const Config& c) {
  hub::HubOptions o;
  o.keepalive = c.hub_keepalive;
  o.client_timeout = c.hub_client_timeout;
  o.handshake_timeout = c.hub_handshake_timeout;
  o.send_queue = static_cast<std::size_t>(c.hub_send_queue);
  o.max_message = static_cast<std::size_t>(c.hub_max_message);
  o.negotiate_ttl = c.hub_negotiate_ttl;
  o.delivery_timeout = c.hub_delivery_timeout;
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
  // Rules are validated before anything else starts: a bad file stops start-up.
  const std::string rules_path = config.rules_file.empty() ? intake::shipped_rules_path() : config.rules_file;
  intake::Rules rules;
  try {
    rules = intake::Rules::load_file(rules_path);
  } catch (const intake::RulesError& e) {
    throw ConfigError(std::string("COMMS_RULES_FILE: ") + e.what());
  }

  // Declared before the io_context: coroutine frames still queued when it is
  // destroyed may touch the registry and the store while unwinding.
  metrics::Registry registry;

  store::StoreOptions so;
  so.url = config.effective_db();
  so.synchronous_full = config.db_sync_full;
  auto store = store::open_store(so);
  const int migrated = store->migrate();
  if (const auto seeded = templating::seed_defaults(*store); seeded.created + seeded.updated > 0)
    log::info("default_templates_seeded",
              {{"created", std::to_string(seeded.created)}, {"updated", std::to_string(seeded.updated)}});
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

  delivery::Providers providers;
  try {
    providers = delivery::build_providers(providers_options(config), registry, *store);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  const bool dev_inbox = providers.dev_inbox_used;
  delivery::Channels channels = providers.channels;
  auto& outcomes = registry.counter("comms_notifications_processed_total",
                                    "Send attempts by channel and resulting status", {"channel", "status"});
  // COMMS_REDIS: a two-level cache, the Redis hub backplane and (optionally) shared rate limits.
  ScaleOut scale_out(config, registry);
  cache::Cache& cache = scale_out.cache();
  templating::TemplateService templates(*store, cache, {.ttl = config.cache_ttl});
  templating::TemplateRenderer renderer(templates);
  delivery::RecipientDirectory directory(*store, cache, config.cache_ttl);

  bus::BusOptions bo;
  bo.url = config.bus;
  bo.ns = config.bus_namespace;
  bo.queue = config.bus_queue;
  bo.prefetch = config.bus_prefetch;
  bo.retry_limit = config.bus_retry_limit;

  {
    asio::io_context io(threads);
    hub::Hub hub(io, *store, registry, hub_options(config), scale_out.backplane());
    channels[domain::Channel::inapp] = std::make_shared<delivery::InAppChannel>(hub);

    delivery::Dispatcher* dispatcher_ptr = nullptr;
    intake::Intake intake(io, *store, cache, directory, std::move(rules),
                          intake::IntakeOptions{config.secrets_key, config.escalation_after, config.cache_ttl,
                                                config.poll},
                          [&dispatcher_ptr] {
                            if (dispatcher_ptr) dispatcher_ptr->wake();
                          });
    auto sealed_renderer = intake.secret_renderer(renderer);
    intake.reveal_secrets(channels);

    std::unique_ptr<bus::MessageBus> message_bus;
    try {
      message_bus = bus::make_bus(bo, io, registry);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("COMMS_BUS: ") + e.what());
    }
    bus::OutboxOptions oo;
    oo.batch = config.outbox_batch;
    oo.poll = config.outbox_poll;
    bus::OutboxRelay relay(io, *store, *message_bus, registry, oo);

    delivery::Dispatcher dispatcher(
        io, *store, channels, *sealed_renderer, directory, dispatcher_options(config),
        [&outcomes, &relay](const domain::Notification& n, const delivery::SendResult&) {
          outcomes.labels({domain::to_string(n.channel), domain::to_string(n.status)}).inc();
          relay.wake();
        });
    dispatcher_ptr = &dispatcher;
    intake.subscribe(*message_bus);
    intake.react_to_own_events(relay);

    api::Context ctx{*store};
    ctx.wake_dispatcher = [&dispatcher] { dispatcher.wake(); };
    ctx.dev_inbox_enabled = dev_inbox;
    ctx.metrics_public = config.metrics_public;
    ctx.metrics = &registry;
    if (scale_out.redis_up()) ctx.optional_services.emplace_back("redis", [&scale_out] { return *scale_out.redis_up(); });
    ctx.templates = &templates;
    ctx.recipients = &directory;

    http::Router router;
    api::register_routes(router, ctx);
    api::register_callback_routes(router, ctx, {config.at_callback_token, config.kannel_callback_token});
    api::register_provider_routes(router, providers.monitor);
    api::register_hub_routes(router, hub);
    api::register_inbox_routes(router, ctx);
    api::register_intake_routes(router, ctx, intake);
    http::Server server(io, http_options(config), std::move(router), registry, scale_out.buckets());
    hub.attach(server);

    message_bus->start();
    relay.start();
    intake.start();
    server.start();
    hub.start();
    dispatcher.start();

    const std::string url = url_of(config.http_addr, server.port());
    log::info("listening", {{"url", url},
                            {"db", store->backend()},
                            {"bus", message_bus->name()},
                            {"redis", scale_out.redis_name()},
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
            const auto t = config.shutdown_timeout;
            co_await server.stop(t);
            co_await intake.stop(t);
            co_await dispatcher.stop(t);
            co_await hub.stop(t);
            co_await relay.stop(t);
            co_await message_bus->stop(t);
            io.stop();
          },
          asio::detached);
    });

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.push_back(named_thread("io", [&io] { io.run(); }));
    io.run();
    for (auto& t : pool) t.join();
    scale_out.stop();
    providers.stop();
  }
  store->close();
  log::info("stopped");
  return 0;
}

}  // namespace comms::app
