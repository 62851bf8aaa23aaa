// Builds the delivery channels from configuration: for each channel, a
// provider router over the real providers that are configured (SMS: Africa's
// Talking, then Kannel; email: SMTP), or the built-in dev inbox.
//
// app/ fills ProvidersOptions from its Config (delivery never reads the
// environment) and calls build_providers() once at start-up.
//
// Ownership: the returned Providers owns every provider and its worker
// threads (through the channels' shared pointers); the registry and the store
// must outlive it. Thread-safety: the channels are safe to use from many
// coroutines; the monitor from any thread.
#pragma once
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "delivery/channel.h"
#include "delivery/resilience/provider_stats.h"

namespace comms::metrics {
class Registry;
}
namespace comms::store {
class Store;
}

namespace comms::delivery {

struct AfricasTalkingOptions {
  std::string username;   // "sandbox" for the sandbox
  std::string api_key;    // secret: never logged
  std::string sender_id;  // "from"; empty = the account's default
  std::string base_url = "https://api.africastalking.com";
  bool enqueue = false;                        // ask AT to queue bulk requests (enqueue=1)
  int batch_max = 100;                         // recipients of one identical text per request
  std::chrono::milliseconds batch_window{10};  // how long a new text waits for more recipients
  int concurrency = 8;                         // requests in flight (one kept-alive connection each)
  bool configured() const { return !username.empty() && !api_key.empty(); }
};

struct KannelOptions {
  std::string url;  // e.g. http://127.0.0.1:13013 (the smsbox sendsms port)
  std::string username;
  std::string password;  // secret
  std::string from;
  std::string dlr_url;         // our public base URL that Kannel calls back; empty = no delivery reports
  std::string callback_token;  // secret token put into the DLR URL; required with dlr_url
  int concurrency = 4;
  bool configured() const { return !url.empty(); }
};

enum class StartTls { automatic, required, off };

struct SmtpOptions {
  std::string url;  // smtp://host:port (STARTTLS per `starttls`) or smtps://host:port (implicit TLS)
  std::string username;
  std::string password;  // secret
  std::string from;      // "IntelliFin <no-reply@intellifin.co.zm>" or a bare address
  std::string reply_to;
  StartTls starttls = StartTls::automatic;
  std::string ca_file;  // PEM bundle to verify the server with; empty = the system's
  int concurrency = 4;  // SMTP sessions kept open
  bool configured() const { return !url.empty(); }
};

enum class DevInboxMode {
  automatic,  // channels without a configured provider use the dev inbox
  always,     // every channel uses the dev inbox, even where providers are configured (staging)
  never,      // no dev inbox: a channel without providers has no Channel (its sends fail permanently)
};

struct ProvidersOptions {
  AfricasTalkingOptions africastalking;
  KannelOptions kannel;
  SmtpOptions smtp;
  int breaker_failures = 5;                       // consecutive failures that open a provider's breaker
  std::chrono::milliseconds breaker_open{30000};  // how long it stays open before a probe
  std::chrono::milliseconds timeout{10000};       // each provider call (and, again, its queue wait)
  DevInboxMode dev_inbox = DevInboxMode::automatic;
};

class Provider;

struct Providers {
  Channels channels;                                 // for the Dispatcher
  std::shared_ptr<ProviderMonitor> monitor;          // for GET /api/v1/providers
  bool dev_inbox_used = false;                       // some channel delivers to the dev inbox
  std::vector<std::shared_ptr<Provider>> providers;  // every real provider, for stop()

  // At shutdown, after the I/O threads have returned and before the io_context is destroyed: queued
  // sends complete as "not sent", sends in flight are waited for (each bounded by the provider
  // timeout), the worker threads end. Idempotent.
  void stop() const;
};

// Throws std::invalid_argument naming the COMMS_* key when options are inconsistent
// (e.g. a Kannel DLR URL without a callback token, an SMTP URL that is not smtp:// or smtps://).
Providers build_providers(const ProvidersOptions& options, metrics::Registry& registry, store::Store& store);

}  // namespace comms::delivery
