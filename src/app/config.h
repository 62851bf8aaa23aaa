// Service configuration: built-in defaults, then an optional JSON config file,
// then COMMS_* environment variables (highest precedence). Read once at
// start-up in app/ and handed down as typed structs; no other module reads the
// environment.
#pragma once
#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace comms::app {

// Raised for an unknown key or an invalid value; what() names the key, e.g.
// "COMMS_RATE_LIMIT: expected RATE,BURST (e.g. 50,100), got 'abc'".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Config {
  // http
  std::string http_addr = "127.0.0.1:8080";
  std::size_t body_limit = 1 << 20;
  std::vector<std::string> cors_origins;
  double rate_limit_rps = 200;  // per IP; 0 disables
  double rate_limit_burst = 400;
  double client_rate_limit_rps = 0;  // per authenticated client (JWT sub); 0 disables
  double client_rate_limit_burst = 0;
  bool metrics_public = true;
  bool access_log = true;  // one structured line per request
  int threads = 0;  // 0 = number of cores

  // auth
  std::string jwt_secret;            // HS256; empty = generated dev secret under data_dir
  std::string jwt_public_key_file;   // RS256 alternative
  std::string jwt_issuer;
  std::string jwt_audience;

  // logging
  std::string log_format = "text";  // text | json
  std::string log_level = "info";

  // storage
  std::string data_dir = "./data";
  std::string db;  // empty = sqlite file <data_dir>/comms.db
  bool db_sync_full = true;

  // dispatcher
  int dispatch_concurrency = 64;
  int dispatch_batch = 128;
  int max_attempts = 4;  // first try + 3 retries (the seed's 3 retries)
  std::chrono::milliseconds retry_base{2000};
  std::chrono::milliseconds retry_max{300000};
  std::chrono::milliseconds lease{60000};
  std::chrono::milliseconds poll{1000};
  std::chrono::milliseconds shutdown_timeout{10000};

  // dev inbox: "auto" = on unless a real provider is configured for a channel
  std::string dev_inbox = "auto";

  // ---- providers (issue 5; docs/providers.md) ------------------------------------------------
  // SMS: Africa's Talking (primary) and Kannel (secondary); email: SMTP. A provider is configured
  // when its URL or credentials are set; otherwise its channel uses the dev inbox.
  std::string at_username;  // "sandbox" for the sandbox
  std::string at_api_key;   // secret
  std::string at_sender_id;
  std::string at_base_url = "https://api.africastalking.com";
  std::string at_callback_token;  // secret: ?token= of the delivery-report URL
  int at_batch_max = 100;
  std::chrono::milliseconds at_batch_window{10};
  int at_concurrency = 8;
  bool at_enqueue = false;
  std::string kannel_url;  // smsbox sendsms base URL, e.g. http://gw:13013
  std::string kannel_username;
  std::string kannel_password;  // secret
  std::string kannel_from;
  std::string kannel_dlr_url;         // our base URL as Kannel reaches it
  std::string kannel_callback_token;  // secret
  std::string smtp_url;               // smtp://host:port or smtps://host:port
  std::string smtp_username;
  std::string smtp_password;  // secret
  std::string smtp_from;
  std::string smtp_reply_to;
  std::string smtp_starttls = "auto";  // auto | required | off
  std::string smtp_ca_file;
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_open{30000};
  std::chrono::milliseconds provider_timeout{10000};
  // ---- end providers -------------------------------------------------------------------------

  // ---- intake (issue 4; docs/rules.md, docs/events.md) ---------------------------------------
  std::string rules_file;  // empty = the shipped config/rules.json (intake::shipped_rules_path)
  std::chrono::milliseconds escalation_after{30 * 60 * 1000};  // unread in-app -> SMS
  std::chrono::milliseconds cache_ttl{300000};                 // preferences in the L1 cache
  int cache_capacity = 10000;                                  // L1 cache entries
  std::string secrets_key;  // secret: 64 hex digits sealing OTP codes at rest; empty = per-process key
  // ---- end intake ----------------------------------------------------------------------------

  // ---- bus (issue 4; docs/bus.md) ------------------------------------------------------------
  std::string bus = "inprocess";  // secret (password): inprocess | amqp://user:pass@host:port/vhost
  std::string bus_namespace = "IntelliFin.Contracts";  // MassTransit namespace of the message types
  std::string bus_queue = "communications";            // receive endpoint (+ _error, _skipped)
  int bus_prefetch = 256;                              // unacked deliveries = concurrent handlers
  int bus_retry_limit = 3;                             // immediate redeliveries before a fault
  int outbox_batch = 100;                              // outbox rows per relay round
  std::chrono::milliseconds outbox_poll{1000};         // relay poll when idle
  // ---- end bus -------------------------------------------------------------------------------

  // ---- hub (issue 6; docs/hub.md) ------------------------------------------------------------
  std::chrono::milliseconds hub_keepalive{15000};          // Ping to a client sent nothing this long
  std::chrono::milliseconds hub_client_timeout{30000};     // close a client silent this long
  std::chrono::milliseconds hub_handshake_timeout{15000};  // upgrade + SignalR handshake; WebSocket close
  int hub_send_queue = 256;                                // messages queued per connection
  int hub_max_message = 32768;                             // largest client message, bytes
  std::chrono::milliseconds hub_negotiate_ttl{30000};      // an unused negotiated token is forgotten
  std::chrono::milliseconds hub_delivery_timeout{5000};    // wait for "a connection received it"
  // ---- end hub -------------------------------------------------------------------------------

  // ---- redis (issue 7; docs/scale-out.md) ----------------------------------------------------
  std::string redis;                     // secret (password): empty = embedded, no Redis
  std::string redis_prefix = "comms:";   // keys and channels
  std::chrono::milliseconds redis_timeout{100};  // connect, command, queue wait
  std::string rate_limit_store = "memory";  // memory | redis (needs redis)
  // ---- end redis -----------------------------------------------------------------------------

  // Where each value came from ("default", "file", "env"), for `comms config`.
  std::map<std::string, std::string> sources;

  std::string effective_db() const;
};

// Loads defaults, then `file` if non-empty (or COMMS_CONFIG when `file` is
// empty), then the environment. Throws ConfigError.
Config load_config(const std::string& file, char** environ);

// One line per key: env name, effective value (secrets masked), source.
std::string describe(const Config& c);
// Markdown table of every key with its default and meaning (docs/configuration.md).
std::string reference_markdown();

}  // namespace comms::app
