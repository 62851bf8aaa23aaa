// What the API handlers need, wired by app/. Handlers hold no business logic:
// they parse, call one command or query, and render.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/await.h"
#include "store/store.h"

namespace comms::metrics {
class Registry;
}
namespace comms::templating {
class TemplateService;
}
namespace comms::delivery {
class RecipientDirectory;
}

namespace comms::api {

struct Context {
  store::Store& store;
  std::function<void()> wake_dispatcher;  // new work is due
  bool dev_inbox_enabled = true;
  bool metrics_public = true;
  metrics::Registry* metrics = nullptr;  // rendered by GET /metrics
  // Backing services the service works without (Redis), by name: /health/ready shows each and
  // answers "degraded" (still 200) while one is down.
  std::vector<std::pair<std::string, std::function<bool()>>> optional_services;
  // Template lookup for rendering and previews; after every committed template change call
  // `co_await templates->invalidate(record)` (templating/template_service.h).
  templating::TemplateService* templates = nullptr;
  // The recipient directory through the cache; after every committed directory change call
  // `co_await recipients->invalidate(id)`. nullptr: read the store directly.
  delivery::RecipientDirectory* recipients = nullptr;
  // The store-derived /metrics gauges and when they were read (api/ops_api.cc).
  struct StoreGauges;
  std::shared_ptr<StoreGauges> store_gauges;

  template <class F>
  boost::asio::awaitable<void> write(F&& work) {
    co_await store::write_async(store, std::forward<F>(work));
  }
  template <class F>
  boost::asio::awaitable<void> read(F&& work) {
    co_await store::read_async(store, std::forward<F>(work));
  }
};

}  // namespace comms::api
