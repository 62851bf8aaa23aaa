// Plain configuration structs for the HTTP server and its middleware. The app fills them from its
// config and environment; nothing in http/ reads the environment. Values, no behaviour.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace comms::http {

struct CorsOptions {
  // Exact origins ("https://app.intellifin.zm"). "*" means any origin and is only accepted with
  // allow_credentials == false (the server throws std::invalid_argument otherwise). Empty: CORS off.
  std::vector<std::string> allowed_origins;
  bool allow_credentials = true;
  std::string allowed_methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
  // Sent on preflights that do not list Access-Control-Request-Headers; when they do, the request's
  // list is echoed.
  std::string allowed_headers =
      "Authorization, Content-Type, Idempotency-Key, X-Request-Id, x-signalr-user-agent, x-requested-with";
  std::string expose_headers = "X-Request-Id, Retry-After";
  std::chrono::seconds max_age{600};
};

struct RateLimitOptions {
  bool enabled = true;
  double rate_per_second = 50;  // token refill rate per client IP
  double burst = 100;           // bucket capacity
  // Per authenticated client (the token's sub), checked after auth; 0 disables. Its buckets share
  // the store with the per-IP ones under the key "client:<sub>".
  double client_rate_per_second = 0;
  double client_burst = 0;
  // In-memory store bounds: at most max_buckets buckets; a bucket idle this long is dropped first.
  std::size_t max_buckets = 100'000;
  std::chrono::seconds idle_eviction{300};
};

struct AuthOptions {
  // Exactly one of these selects the algorithm: HS256 with a shared secret, or RS256 with the
  // PEM public key read from this file when the server is built. Neither: every protected route
  // answers 401.
  std::string hs256_secret;
  std::string rs256_public_key_file;
  std::string issuer;                   // checked against "iss" when not empty
  std::string audience;                 // must appear in "aud" (string or array) when not empty
  std::chrono::seconds leeway{30};      // clock skew allowed for exp and nbf
  std::size_t cache_capacity = 10'000;  // verified tokens kept until their exp
};

struct HttpOptions {
  std::string listen = "0.0.0.0:8080";   // "host:port"; port 0 picks a free port (see Server::port)
  std::size_t body_limit = 1024 * 1024;  // larger bodies get 413
  std::size_t header_limit = 16 * 1024;  // larger headers get 431
  // Time to receive a request's headers on a new connection, then its body, then to write the response.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  bool keep_alive = true;
  std::chrono::milliseconds idle_timeout{60'000};  // a keep-alive connection waiting for its next request
  bool access_log = true;                          // one info line per request (off for benchmarks)
  // Take the client address from the first X-Forwarded-For entry (only behind a trusted proxy).
  bool trust_forwarded_for = false;
  std::vector<int> api_versions{1};  // N in /api/vN/ that exist; others get 404 unsupported_api_version
  CorsOptions cors;
  RateLimitOptions rate_limit;
  AuthOptions auth;
};

}  // namespace comms::http
