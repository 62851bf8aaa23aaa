#include "app/config.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "redis/url.h"

namespace comms::app {
namespace {

using Setter = std::function<void(Config&, const std::string&)>;
using Getter = std::function<std::string(const Config&)>;

struct Key {
  std::string name;  // file key; env is COMMS_<NAME>
  std::string help;
  bool secret;
  Setter set;
  Getter get;
};

std::string env_name(const std::string& key) {
  std::string out = "COMMS_";
  for (char c : key) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A setter's message; the loader prefixes it with the key's name.
struct Invalid {
  std::string message;
};

long long parse_int(const std::string& v, long long lo, long long hi) {
  long long out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size())
    throw Invalid{"expected an integer, got '" + v + "'"};
  if (out < lo || out > hi)
    throw Invalid{"must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + v};
  return out;
}

double parse_double(const std::string& v) {
  try {
    size_t n = 0;
    double d = std::stod(v, &n);
    if (n != v.size() || d < 0) throw Invalid{""};
    return d;
  } catch (...) {
    throw Invalid{"expected a non-negative number, got '" + v + "'"};
  }
}

bool parse_bool(const std::string& v) {
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  throw Invalid{"expected true or false, got '" + v + "'"};
}

std::string one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  std::string list;
  for (const char* a : allowed) {
    if (v == a) return v;
    list += list.empty() ? a : std::string("|") + a;
  }
  throw Invalid{"expected " + list + ", got '" + v + "'"};
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

void check_addr(const std::string& v) {
  const auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) throw Invalid{"expected HOST:PORT, got '" + v + "'"};
  parse_int(v.substr(colon + 1), 0, 65535);
}

Key ms_key(std::string name, std::string help, std::chrono::milliseconds Config::*field, long long lo,
           long long hi) {
  return {std::move(name), std::move(help) + " (milliseconds)", false,
          [field, lo, hi](Config& c, const std::string& v) {
            c.*field = std::chrono::milliseconds(parse_int(v, lo, hi));
          },
          [field](const Config& c) { return std::to_string((c.*field).count()); }};
}

Key int_key(std::string name, std::string help, int Config::*field, long long lo, long long hi) {
  return {std::move(name), std::move(help), false,
          [field, lo, hi](Config& c, const std::string& v) { c.*field = static_cast<int>(parse_int(v, lo, hi)); },
          [field](const Config& c) { return std::to_string(c.*field); }};
}

Key str_key(std::string name, std::string help, std::string Config::*field, bool secret = false) {
  return {std::move(name), std::move(help), secret,
          [field](Config& c, const std::string& v) { c.*field = v; },
          [field](const Config& c) { return c.*field; }};
}

Key bool_key(std::string name, std::string help, bool Config::*field) {
  return {std::move(name), std::move(help), false,
          [field](Config& c, const std::string& v) { c.*field = parse_bool(v); },
          [field](const Config& c) { return std::string(c.*field ? "true" : "false"); }};
}

// A token bucket given as RATE,BURST in requests/s, or 0 to disable it.
Key rate_key(std::string name, std::string help, double Config::*rate, double Config::*burst) {
  return {std::move(name), std::move(help), false,
          [rate, burst](Config& c, const std::string& v) {
            const auto parts = split_list(v);
            if (parts.size() == 1 && parse_double(parts[0]) == 0) {
              c.*rate = 0;
              c.*burst = 0;
              return;
            }
            if (parts.size() != 2) throw Invalid{"expected RATE,BURST (e.g. 200,400), got '" + v + "'"};
            c.*rate = parse_double(parts[0]);
            c.*burst = parse_double(parts[1]);
            if (c.*burst < 1 && c.*rate > 0) throw Invalid{"burst must be at least 1"};
          },
          [rate, burst](const Config& c) {
            std::ostringstream o;
            if (c.*rate == 0) return std::string("0");
            o << c.*rate << ',' << c.*burst;
            return o.str();
          }};
}

const std::vector<Key>& keys() {
  static const std::vector<Key> k = {
      {"http_addr", "HTTP listen address HOST:PORT (port 0 picks a free port)", false,
       [](Config& c, const std::string& v) {
         check_addr(v);
         c.http_addr = v;
       },
       [](const Config& c) { return c.http_addr; }},
      {"body_limit", "largest accepted request body, in bytes (larger gets 413)", false,
       [](Config& c, const std::string& v) { c.body_limit = parse_int(v, 1024, 64 << 20); },
       [](const Config& c) { return std::to_string(c.body_limit); }},
      {"cors_origins",
       "comma-separated origins allowed by CORS (with credentials), e.g. https://app.example.com", false,
       [](Config& c, const std::string& v) { c.cors_origins = split_list(v); },
       [](const Config& c) { return join(c.cors_origins); }},
      rate_key("rate_limit", "per-IP token bucket as RATE,BURST in requests/s (e.g. 200,400); 0 disables",
               &Config::rate_limit_rps, &Config::rate_limit_burst),
      rate_key("client_rate_limit",
               "per-client token bucket (keyed by the token's sub, applied after auth) as RATE,BURST in "
               "requests/s (e.g. 100,200); 0 disables",
               &Config::client_rate_limit_rps, &Config::client_rate_limit_burst),
      bool_key("metrics_public",
               "serve /metrics without a token (for Prometheus scrapers on a private network)",
               &Config::metrics_public),
      bool_key("access_log", "log one structured line per HTTP request (method, route, status, duration)",
               &Config::access_log),
      int_key("threads", "I/O threads (0 = number of cores)", &Config::threads, 0, 256),
      str_key("jwt_secret",
              "HS256 signing secret (at least 32 bytes); empty = a dev secret generated in data_dir",
              &Config::jwt_secret, true),
      str_key("jwt_public_key_file", "PEM public key file: verify RS256 tokens instead of HS256",
              &Config::jwt_public_key_file),
      str_key("jwt_issuer", "required iss claim, if set", &Config::jwt_issuer),
      str_key("jwt_audience", "required aud claim, if set", &Config::jwt_audience),
      {"log_format", "text (logfmt) or json", false,
       [](Config& c, const std::string& v) {
         c.log_format = one_of(v, {"text", "json"});
       },
       [](const Config& c) { return c.log_format; }},
      {"log_level", "debug, info, warn or error", false,
       [](Config& c, const std::string& v) {
         c.log_level = one_of(v, {"debug", "info", "warn", "error"});
       },
       [](const Config& c) { return c.log_level; }},
      str_key("data_dir", "folder for the embedded database and the dev secret", &Config::data_dir),
      str_key("db",
              "database: a SQLite path (default <data_dir>/comms.db) or postgres://user:pass@host:port/db",
              &Config::db, true),
      bool_key("db_sync_full", "SQLite: fsync every group commit (durable across power loss)",
               &Config::db_sync_full),
      int_key("dispatch_concurrency", "most notifications being sent at once per instance",
              &Config::dispatch_concurrency, 1, 10000),
      int_key("dispatch_batch", "most notifications claimed per dispatcher round", &Config::dispatch_batch, 1,
              10000),
      int_key("max_attempts", "send attempts before a notification is Failed", &Config::max_attempts, 1, 100),
      ms_key("retry_base", "first retry delay; doubles each attempt, with jitter", &Config::retry_base, 1,
             86'400'000),
      ms_key("retry_max", "longest retry delay", &Config::retry_max, 1, 86'400'000),
      ms_key("lease", "how long a claimed notification stays claimed before another worker may take it",
             &Config::lease, 100, 86'400'000),
      ms_key("poll", "dispatcher poll interval when idle", &Config::poll, 10, 3'600'000),
      ms_key("shutdown_timeout", "how long SIGTERM waits for in-flight work", &Config::shutdown_timeout, 0,
             600'000),
      {"dev_inbox", "auto (on unless real providers are configured), on or off", false,
       [](Config& c, const std::string& v) {
         c.dev_inbox = one_of(v, {"auto", "on", "off"});
       },
       [](const Config& c) { return c.dev_inbox; }},
      // ---- providers (issue 5; docs/providers.md) ----
      str_key("at_username",
              "Africa's Talking username (\"sandbox\" for the sandbox); with at_api_key enables it",
              &Config::at_username),
      str_key("at_api_key", "Africa's Talking API key", &Config::at_api_key, true),
      str_key("at_sender_id", "Africa's Talking sender id (\"from\"); empty = the account default",
              &Config::at_sender_id),
      str_key("at_base_url",
              "Africa's Talking API base URL (sandbox: https://api.sandbox.africastalking.com)",
              &Config::at_base_url),
      str_key("at_callback_token", "secret token expected as ?token= on Africa's Talking delivery reports",
              &Config::at_callback_token, true),
      int_key("at_batch_max", "most recipients of one identical SMS text per Africa's Talking request",
              &Config::at_batch_max, 1, 1000),
      ms_key("at_batch_window_ms", "how long a new SMS text waits for more recipients of the same text",
             &Config::at_batch_window, 0, 10'000),
      int_key("at_concurrency", "Africa's Talking requests in flight (kept-alive connections)",
              &Config::at_concurrency, 1, 256),
      bool_key("at_enqueue", "ask Africa's Talking to queue bulk requests (enqueue=1)", &Config::at_enqueue),
      str_key("kannel_url", "Kannel smsbox base URL (e.g. http://gw:13013); enables the legacy SMS gateway",
              &Config::kannel_url),
      str_key("kannel_username", "Kannel sendsms username", &Config::kannel_username),
      str_key("kannel_password", "Kannel sendsms password", &Config::kannel_password, true),
      str_key("kannel_from", "Kannel sender (from)", &Config::kannel_from),
      str_key("kannel_dlr_url",
              "this service's base URL as Kannel reaches it, for delivery reports; empty = none",
              &Config::kannel_dlr_url),
      str_key("kannel_callback_token", "secret token put into Kannel's delivery-report URL",
              &Config::kannel_callback_token, true),
      str_key("smtp_url", "SMTP server: smtp://host:port or smtps://host:port; enables email",
              &Config::smtp_url),
      str_key("smtp_username", "SMTP AUTH user; empty = no AUTH", &Config::smtp_username),
      str_key("smtp_password", "SMTP AUTH password", &Config::smtp_password, true),
      str_key("smtp_from", "email From, e.g. IntelliFin <no-reply@example.com>", &Config::smtp_from),
      str_key("smtp_reply_to", "email Reply-To; empty = none", &Config::smtp_reply_to),
      {"smtp_starttls", "STARTTLS on smtp://: auto (when offered), required or off", false,
       [](Config& c, const std::string& v) {
         c.smtp_starttls = one_of(v, {"auto", "required", "off"});
       },
       [](const Config& c) { return c.smtp_starttls; }},
      str_key("smtp_ca_file", "PEM CA bundle to verify the SMTP server; empty = the system's",
              &Config::smtp_ca_file),
      int_key("breaker_failures", "consecutive provider failures that open its circuit breaker",
              &Config::breaker_failures, 1, 1000),
      ms_key("breaker_open_ms", "how long an open breaker fails fast before a probe", &Config::breaker_open,
             1, 3'600'000),
      ms_key("provider_timeout_ms",
             "timeout of each provider call (and, again, of its wait for a connection)",
             &Config::provider_timeout, 100, 600'000),
      // ---- end providers ----
      // ---- intake (issue 4) ----
      str_key("rules_file", "event rules (JSON, docs/rules.md); empty = the shipped config/rules.json",
              &Config::rules_file),
      ms_key("escalation_after", "how long an in-app notification may stay unread before the escalation SMS",
             &Config::escalation_after, 1000, 30LL * 86'400'000),
      ms_key("cache_ttl", "how long cached preferences, templates and recipients live", &Config::cache_ttl, 1,
             86'400'000),
      int_key("cache_capacity", "entries in the in-process (L1) cache", &Config::cache_capacity, 1,
              10'000'000),
      {"secrets_key", "64 hex digits sealing OTP codes and reset tokens at rest; empty = a per-process key", true,
       [](Config& c, const std::string& v) {
         const bool hex =
             std::all_of(v.begin(), v.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
         if (!v.empty() && (v.size() != 64 || !hex)) throw Invalid{"expected 64 hex digits (32 bytes)"};
         c.secrets_key = v;
       },
       [](const Config& c) { return c.secrets_key; }},
      // ---- end intake ----
      // ---- bus (issue 4; docs/bus.md) ----
      {"bus", "message bus: inprocess, or RabbitMQ as amqp://user:pass@host:port/vhost", true,
       [](Config& c, const std::string& v) {
         if (v != "inprocess" && v.rfind("amqp://", 0) != 0)
           throw Invalid{"expected inprocess or amqp://user:pass@host:port/vhost"};
         c.bus = v;
       },
       [](const Config& c) { return c.bus; }},
      {"bus_namespace", "MassTransit namespace of the message types (exchanges are NAMESPACE:Type)", false,
       [](Config& c, const std::string& v) {
         if (v.empty() || v.find_first_of(": ") != std::string::npos)
           throw Invalid{"expected a namespace such as IntelliFin.Contracts, got '" + v + "'"};
         c.bus_namespace = v;
       },
       [](const Config& c) { return c.bus_namespace; }},
      {"bus_queue", "receive endpoint: queue and exchange name (plus NAME_error and NAME_skipped)", false,
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 200) throw Invalid{"expected a queue name of 1 to 200 characters"};
         c.bus_queue = v;
       },
       [](const Config& c) { return c.bus_queue; }},
      int_key("bus_prefetch", "RabbitMQ prefetch: unacknowledged deliveries, and so concurrent handlers",
              &Config::bus_prefetch, 1, 65535),
      int_key("bus_retry_limit", "immediate redeliveries of a failing message before it goes to the error queue",
              &Config::bus_retry_limit, 0, 100),
      int_key("outbox_batch", "outbox rows the relay publishes per round", &Config::outbox_batch, 1, 10000),
      ms_key("outbox_poll", "outbox relay poll interval when idle", &Config::outbox_poll, 10, 3'600'000),
      // ---- end bus ----
      // ---- hub (issue 6; docs/hub.md) ----
      ms_key("hub_keepalive", "the hub sends a Ping to a client it has sent nothing for this long",
             &Config::hub_keepalive, 10, 3'600'000),
      ms_key("hub_client_timeout", "the hub closes a client that sent nothing (not even a Ping) for this long",
             &Config::hub_client_timeout, 10, 3'600'000),
      ms_key("hub_handshake_timeout",
             "time for the hub's WebSocket upgrade plus SignalR handshake, and for a WebSocket close",
             &Config::hub_handshake_timeout, 10, 600'000),
      int_key("hub_send_queue",
              "messages queued per hub connection; a client that lets more pile up is closed as too slow",
              &Config::hub_send_queue, 1, 1'000'000),
      int_key("hub_max_message", "largest message a hub client may send, in bytes", &Config::hub_max_message,
              256, 16 << 20),
      ms_key("hub_negotiate_ttl", "how long a negotiated hub connection token waits for its WebSocket",
             &Config::hub_negotiate_ttl, 100, 3'600'000),
      ms_key("hub_delivery_timeout",
             "how long an in-app send waits to learn that a hub connection received it (else: Sent)",
             &Config::hub_delivery_timeout, 10, 600'000),
      // ---- end hub ----
      // ---- redis (issue 7; docs/scale-out.md) ----
      {"redis",
       "Redis for scale-out, redis://[:password@]host:port[/db]: two-level cache and hub backplane; "
       "empty = embedded (no Redis)",
       true,
       [](Config& c, const std::string& v) {
         if (!v.empty()) {
           try {
             redis::parse_url(v);
           } catch (const std::invalid_argument& e) {
             throw Invalid{e.what()};
           }
         }
         c.redis = v;
       },
       [](const Config& c) { return c.redis; }},
      {"redis_prefix", "prefix of every Redis key and channel the service uses", false,
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 64 || v.find_first_of(" \t\r\n") != std::string::npos)
           throw Invalid{"expected 1 to 64 characters without spaces, e.g. comms:"};
         c.redis_prefix = v;
       },
       [](const Config& c) { return c.redis_prefix; }},
      ms_key("redis_timeout_ms",
             "Redis connect and command timeout; slower calls degrade to the local cache and limits",
             &Config::redis_timeout, 1, 60'000),
      {"rate_limit_store", "where rate-limit buckets live: memory (per instance) or redis (shared; needs COMMS_REDIS)",
       false,
       [](Config& c, const std::string& v) {
         c.rate_limit_store = one_of(v, {"memory", "redis"});
       },
       [](const Config& c) { return c.rate_limit_store; }},
      // ---- end redis ----
  };
  return k;
}

const Key* find_key(const std::string& name) {
  for (const auto& k : keys())
    if (k.name == name) return &k;
  return nullptr;
}

void apply(Config& c, const Key& k, const std::string& value, const std::string& where,
           const std::string& label) {
  try {
    k.set(c, value);
  } catch (const Invalid& e) {
    throw ConfigError(label + ": " + e.message);
  }
  c.sources[k.name] = where;
}

std::string scalar_text(const boost::json::value& v, const std::string& label) {
  switch (v.kind()) {
    case boost::json::kind::string: return std::string(v.get_string());
    case boost::json::kind::bool_: return v.get_bool() ? "true" : "false";
    case boost::json::kind::int64: return std::to_string(v.get_int64());
    case boost::json::kind::uint64: return std::to_string(v.get_uint64());
    case boost::json::kind::double_: {
      std::ostringstream o;
      o << v.get_double();
      return o.str();
    }
    case boost::json::kind::array: {
      std::string out;
      for (const auto& e : v.get_array()) {
        if (!e.is_string()) throw ConfigError(label + ": expected a list of strings");
        out += (out.empty() ? "" : ",") + std::string(e.get_string());
      }
      return out;
    }
    default: throw ConfigError(label + ": expected a string, number or boolean");
  }
}

}  // namespace

std::string Config::effective_db() const { return db.empty() ? data_dir + "/comms.db" : db; }

Config load_config(const std::string& file_arg, char** environ) {
  Config c;
  for (const auto& k : keys()) c.sources[k.name] = "default";

  std::string file = file_arg;
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq) continue;
    std::string name(*e, static_cast<std::size_t>(eq - *e));
    if (name.rfind("COMMS_", 0) == 0) env[name] = eq + 1;
  }
  if (file.empty()) {
    if (auto it = env.find("COMMS_CONFIG"); it != env.end()) file = it->second;
  }

  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) throw ConfigError("config file " + file + ": cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto doc = boost::json::parse(ss.str(), ec);
    if (ec) throw ConfigError("config file " + file + ": invalid JSON (" + ec.message() + ")");
    if (!doc.is_object()) throw ConfigError("config file " + file + ": expected a JSON object");
    for (const auto& [name, value] : doc.get_object()) {
      const std::string key(name);
      const Key* k = find_key(key);
      if (!k) throw ConfigError("config file " + file + ": unknown key '" + key + "'");
      apply(c, *k, scalar_text(value, file + ": " + key), "file", "config file " + file + ": " + key);
    }
  }

  for (const auto& [name, value] : env) {
    // COMMS_CONFIG names the file; COMMS_TEST_* is reserved for the test suite's own settings.
    if (name == "COMMS_CONFIG" || name.rfind("COMMS_TEST_", 0) == 0) continue;
    std::string key = name.substr(6);
    for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const Key* k = find_key(key);
    if (!k) throw ConfigError(name + ": unknown configuration variable");
    apply(c, *k, value, "env", name);
  }

  if (!c.jwt_secret.empty() && c.jwt_secret.size() < 32)
    throw ConfigError("COMMS_JWT_SECRET: must be at least 32 bytes for HS256");
  if (c.retry_max < c.retry_base) throw ConfigError("COMMS_RETRY_MAX: must not be less than COMMS_RETRY_BASE");
  if (c.rate_limit_store == "redis" && c.redis.empty())
    throw ConfigError("COMMS_RATE_LIMIT_STORE: redis needs COMMS_REDIS");
  return c;
}

std::string describe(const Config& c) {
  std::string out;
  for (const auto& k : keys()) {
    std::string value = k.get(c);
    if (k.secret && !value.empty()) value = "(set, hidden)";
    const auto src = c.sources.count(k.name) ? c.sources.at(k.name) : "default";
    out += env_name(k.name) + "=" + value + "    # " + src + "\n";
  }
  return out;
}

std::string reference_markdown() {
  const Config defaults;
  std::string out = "| variable | file key | default | meaning |\n|---|---|---|---|\n";
  for (const auto& k : keys()) {
    std::string def = k.get(defaults);
    if (def.empty()) def = "(empty)";
    out += "| `" + env_name(k.name) + "` | `" + k.name + "` | `" + def + "` | " + k.help + " |\n";
  }
  return out;
}

}  // namespace comms::app
