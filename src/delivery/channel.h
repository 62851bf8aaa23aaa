// What the dispatcher sends through: one Channel per domain::Channel (sms,
// email, inapp). A channel may route over several providers (failover, circuit
// breakers); the dispatcher only sees the outcome.
//
// Channels are shared by all dispatcher workers: send() must be safe to call
// concurrently.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "domain/notification.h"

namespace comms::store {
class UnitOfWork;
}

namespace comms::delivery {

// A rendered message, ready for a provider.
struct Outgoing {
  std::string notification_id;
  domain::Channel channel = domain::Channel::sms;
  std::string recipient_id;
  std::string to;       // E.164 phone, email address, or the user id for in-app
  std::string subject;  // email and in-app
  std::string text;     // SMS text, email text part, in-app body
  std::string html;     // email HTML part (may be empty)
  std::string category;
  std::string correlation_id;
  domain::Millis created_at = 0;
};

struct SendResult {
  enum class Kind { ok, transient, permanent };
  Kind kind = Kind::ok;
  bool delivered = false;  // the channel knows it arrived (dev inbox, a hub connection acked)
  std::string provider;
  std::string provider_message_id;
  std::int64_t cost_micros = 0;
  std::string currency;
  std::string error;  // reason, for transient and permanent
  // Writes the channel wants committed in the same unit of work as the notification's outcome
  // (the dev inbox's capture), so that a send costs the store one unit of work, not two, and the
  // capture and the status commit together. The dispatcher runs it; may be empty.
  std::function<void(store::UnitOfWork&)> commit_with_outcome;

  static SendResult ok_from(std::string provider) {
    SendResult r;
    r.provider = std::move(provider);
    return r;
  }
  static SendResult failure(Kind kind, std::string provider, std::string error) {
    SendResult r;
    r.kind = kind;
    r.provider = std::move(provider);
    r.error = std::move(error);
    return r;
  }
};

class Channel {
 public:
  virtual ~Channel() = default;
  // Sends one message. Never throws for provider errors: they are results.
  virtual boost::asio::awaitable<SendResult> send(const Outgoing& message) = 0;
};

// The channels in use, by kind. Built once by app/ and then read-only.
using Channels = std::map<domain::Channel, std::shared_ptr<Channel>>;

}  // namespace comms::delivery
