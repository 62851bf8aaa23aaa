// Email over SMTP with libcurl: smtp:// (with STARTTLS when offered, required
// or off) and smtps://, AUTH when a username is configured, and one SMTP
// session kept open per bulkhead worker so consecutive messages reuse it.
//
// A message counts as possibly sent (ambiguous) only once its whole body has
// been handed to the server without a final reply; a negative reply (4xx
// transient, 5xx permanent) is definite.
//
// Thread-safety: send() may be called concurrently.
#pragma once
#include <string>

#include "delivery/providers.h"
#include "delivery/resilience/bulkhead.h"
#include "delivery/resilience/provider.h"

namespace comms::delivery {

class SmtpProvider : public Provider {
 public:
  // Throws std::invalid_argument when the URL is not smtp:// or smtps://, or `from` has no address.
  SmtpProvider(SmtpOptions options, std::chrono::milliseconds timeout);
  const std::string& name() const override { return name_; }
  boost::asio::awaitable<ProviderResult> send(const Outgoing& message) override;
  void stop() override { pool_.join(); }

 private:
  ProviderResult deliver(CURL* handle, const Outgoing& message);

  const std::string name_;
  const SmtpOptions options_;
  const std::chrono::milliseconds timeout_;
  const std::string from_address_;
  const std::string domain_;  // for Message-IDs
  Bulkhead pool_;             // last member: destroyed first
};

}  // namespace comms::delivery
