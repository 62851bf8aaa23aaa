// The legacy SMS gateway provider (the seed's LegacyProviderAdapter): Kannel's
// HTTP sendsms interface, one request per message over a bulkhead of
// kept-alive libcurl connections. With a DLR URL configured, each message asks
// Kannel for every delivery-report type, pointing at our callback endpoint with
// the notification id and the callback token; the provider message id is the
// notification id (Kannel's sendsms reply carries none).
//
// Thread-safety: send() may be called concurrently.
#pragma once
#include <string>

#include "delivery/providers.h"
#include "delivery/resilience/bulkhead.h"
#include "delivery/resilience/provider.h"

namespace comms::delivery {

class KannelProvider : public Provider {
 public:
  KannelProvider(KannelOptions options, std::chrono::milliseconds timeout);
  const std::string& name() const override { return name_; }
  boost::asio::awaitable<ProviderResult> send(const Outgoing& message) override;
  void stop() override { pool_.join(); }

 private:
  ProviderResult deliver(CURL* handle, const Outgoing& message);

  const std::string name_;
  const KannelOptions options_;
  const std::chrono::milliseconds timeout_;
  Bulkhead pool_;  // last member: destroyed first
};

}  // namespace comms::delivery
