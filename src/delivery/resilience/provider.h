// One delivery provider (Africa's Talking, Kannel, an SMTP relay) as the
// provider router sees it: send one message, say what happened, and say how
// sure we are that nothing went out when it failed.
//
// Thread-safety: send() is called concurrently from many coroutines.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>

#include "delivery/channel.h"

namespace comms::delivery {

// Why a provider call did not succeed. This decides what may happen next.
enum class Fault {
  none,         // accepted by the provider
  unavailable,  // failed before the provider could have accepted it (refused connection, 5xx, a
                // per-recipient "try again", no balance): safe to retry anywhere, now through the
                // next provider; counts against the breaker
  ambiguous,    // the request was sent and no answer came (timeout, reset, unreadable reply): the
                // provider may have accepted it, so it is never re-sent through this provider;
                // counts against the breaker
  unroutable,   // this provider cannot reach this recipient now (no route to its network):
                // another provider may; says nothing about the provider's health
  rejected,     // permanent: the message itself is refused (invalid number, blacklisted, bad
                // credentials); no provider will do better
};

std::string_view to_string(Fault f);

struct ProviderResult {
  Fault fault = Fault::none;
  SendResult result;  // kind: ok for none, permanent for rejected, transient otherwise
  std::string alert;  // non-empty: an operator must act (bad credentials, no balance); the reason

  static ProviderResult ok(SendResult r) { return {Fault::none, std::move(r), {}}; }
  static ProviderResult failed(Fault f, std::string provider, std::string error, std::string alert = {});
};

class Provider {
 public:
  virtual ~Provider() = default;
  // Stable lower-case name used in metrics, logs and SendResult::provider.
  virtual const std::string& name() const = 0;
  // Never throws for provider errors: they are results. Completes within the
  // provider's configured timeout (plus its queue wait, bounded the same way).
  virtual boost::asio::awaitable<ProviderResult> send(const Outgoing& message) = 0;
  // Shutdown: queued sends complete at once as "not sent" and calls in flight are waited for
  // (each bounded by its timeout); later sends fail as "not sent". Blocking and idempotent; call it
  // from the owner's thread, never from an I/O thread that a send is waiting on.
  virtual void stop() = 0;
};

}  // namespace comms::delivery
