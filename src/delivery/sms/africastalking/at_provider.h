// The Africa's Talking SMS provider: POST {base}/version1/messaging over a
// bulkhead of kept-alive libcurl connections.
//
// Batching: messages with the same text join one open batch for up to
// `batch_window` (or until `batch_max` recipients), and go out as one request
// with comma-joined numbers; each message still gets its own result from its
// recipient entry. While every worker is busy, batches keep filling, so bulk
// sends coalesce further under load. Personalised texts are single-recipient
// batches sent concurrently, at most `concurrency` at a time.
//
// Thread-safety: send() may be called concurrently. Destruction waits for the
// request in flight on each worker and cancels queued ones ("not sent").
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "delivery/providers.h"
#include "delivery/resilience/bulkhead.h"
#include "delivery/resilience/provider.h"

namespace comms::metrics {
class Histogram;
class Registry;
}  // namespace comms::metrics

namespace comms::delivery {

class AfricasTalkingProvider : public Provider {
 public:
  // `registry` may be null (no batch-size histogram).
  AfricasTalkingProvider(AfricasTalkingOptions options, std::chrono::milliseconds timeout,
                         metrics::Registry* registry);
  ~AfricasTalkingProvider() override;

  const std::string& name() const override { return name_; }
  boost::asio::awaitable<ProviderResult> send(const Outgoing& message) override;
  void stop() override { pool_.join(); }

 private:
  struct Slot;
  struct Batch;
  void enqueue(const std::shared_ptr<Slot>& slot, const std::string& text);
  void run(CURL* handle, const std::shared_ptr<Batch>& batch);
  void deliver(CURL* handle, Batch& batch);

  const std::string name_;
  const AfricasTalkingOptions options_;
  const std::chrono::milliseconds timeout_;
  const std::string url_;
  metrics::Histogram* batch_sizes_ = nullptr;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Batch>> open_;  // guarded by mu_; by text
  Bulkhead pool_;  // last member: destroyed first, so no job outlives the members above
};

}  // namespace comms::delivery
