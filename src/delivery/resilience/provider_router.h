// A Channel that routes each message over an ordered list of providers (for
// SMS: Africa's Talking first, Kannel second), each behind its own circuit
// breaker.
//
// For one message, providers are tried in order:
//   - accepted: done;
//   - rejected (permanent): the notification fails at once with the provider's
//     reason; no other provider is tried;
//   - unavailable, unroutable, or the breaker is open: the next provider is
//     tried at once (failover);
//   - ambiguous (the request went out, no answer came): the provider may have
//     accepted it, so this message is never sent through that provider again
//     (an in-memory ledger remembers it for `ambiguity_ttl`); the next
//     provider is tried.
// When no provider accepted, the result is transient (the dispatcher retries
// with backoff), except when every provider is excluded by the ledger: then
// it is permanent, because any re-send could duplicate the message.
//
// Retrying the same provider is the dispatcher's job, never the router's.
//
// Thread-safety: send() may run concurrently; routes are fixed at construction.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "delivery/channel.h"
#include "delivery/resilience/circuit_breaker.h"
#include "delivery/resilience/provider.h"
#include "delivery/resilience/provider_stats.h"

namespace comms::delivery {

struct ProviderRoute {
  std::shared_ptr<Provider> provider;
  std::shared_ptr<CircuitBreaker> breaker;
  std::shared_ptr<ProviderStats> stats;
};

struct RouterOptions {
  std::chrono::milliseconds ambiguity_ttl{3'600'000};
  std::size_t ambiguity_capacity = 100'000;  // oldest entries are forgotten first
  CircuitBreaker::Clock clock;               // empty = steady_clock
};

class ProviderRouter : public Channel {
 public:
  // At most 32 routes, in the order they are tried.
  ProviderRouter(domain::Channel channel, std::vector<ProviderRoute> routes, RouterOptions options = {});
  boost::asio::awaitable<SendResult> send(const Outgoing& message) override;

  const std::vector<ProviderRoute>& routes() const { return routes_; }

 private:
  std::uint32_t excluded(const std::string& notification_id);
  void exclude(const std::string& notification_id, std::size_t route);
  void forget(const std::string& notification_id);

  const domain::Channel channel_;
  const std::vector<ProviderRoute> routes_;
  const RouterOptions options_;
  std::mutex mu_;
  struct Entry {
    std::uint32_t routes = 0;
    CircuitBreaker::TimePoint expires{};
  };
  std::unordered_map<std::string, Entry> ledger_;                        // guarded by mu_
  std::deque<std::pair<CircuitBreaker::TimePoint, std::string>> order_;  // guarded by mu_; insertion order
};

}  // namespace comms::delivery
