#include "http/middleware.h"

#include <gtest/gtest.h>

#include "http/bucket_store.h"
#include "test_support.h"

namespace comms::http {
namespace {

using namespace std::chrono_literals;
using test::request;
using test::TestServer;

Router router() {
  Router r;
  r.add("GET", "/health", Access::anyone(), test::text_handler("ok"));
  r.add("GET", "/api/v1/things/{id}", Access::anyone(), test::text_handler("thing"));
  return r;
}

// Request id

TEST(RequestId, EchoesASaneClientId) {
  TestServer s(test::quiet_options(), router());
  const auto r = request(s.port(), "GET", "/health", {{"X-Request-Id", "abc-123_x.y"}});
  EXPECT_EQ(r.header("x-request-id"), "abc-123_x.y");
}

TEST(RequestId, ReplacesAnInsaneOrMissingId) {
  TestServer s(test::quiet_options(), router());
  for (const std::string bad : {std::string("has space"), std::string("semi;colon"), std::string(129, 'a')}) {
    const auto r = request(s.port(), "GET", "/health", {{"X-Request-Id", bad}});
    EXPECT_NE(r.header("x-request-id"), bad);
    EXPECT_EQ(r.header("x-request-id").size(), 36u) << bad;
  }
  const auto a = request(s.port(), "GET", "/health");
  const auto b = request(s.port(), "GET", "/health");
  EXPECT_EQ(a.header("x-request-id").size(), 36u);
  EXPECT_NE(a.header("x-request-id"), b.header("x-request-id"));
}

TEST(RequestId, AppearsInErrorBodies) {
  TestServer s(test::quiet_options(), router());
  const auto r = request(s.port(), "GET", "/missing", {{"X-Request-Id", "rid-42"}});
  EXPECT_EQ(r.json().at("error").at("requestId"), "rid-42");
}

// CORS

HttpOptions cors_options() {
  auto o = test::quiet_options();
  o.cors.allowed_origins = {"https://app.example.zm"};
  return o;
}

TEST(Cors, AllowedOriginIsEchoedWithCredentials) {
  TestServer s(cors_options(), router());
  const auto r = request(s.port(), "GET", "/health", {{"Origin", "https://app.example.zm"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://app.example.zm");
  EXPECT_EQ(r.header("access-control-allow-credentials"), "true");
  EXPECT_EQ(r.header("vary"), "Origin");
}

TEST(Cors, DisallowedOriginGetsNoCorsHeaders) {
  TestServer s(cors_options(), router());
  const auto r = request(s.port(), "GET", "/health", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.has("access-control-allow-origin"));
  EXPECT_FALSE(r.has("access-control-allow-credentials"));
  const auto pre = request(s.port(), "OPTIONS", "/health",
                           {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_FALSE(pre.has("access-control-allow-origin"));
}

TEST(Cors, PreflightIs204WithoutAuth) {
  auto o = cors_options();
  o.auth.hs256_secret = "s3cret";
  Router r = router();
  r.add("POST", "/api/v1/notifications", Access::roles_of({Role::service}), test::text_handler("x"));
  TestServer s(o, std::move(r));
  const auto pre =
      request(s.port(), "OPTIONS", "/api/v1/notifications",
              {{"Origin", "https://app.example.zm"},
               {"Access-Control-Request-Method", "POST"},
               {"Access-Control-Request-Headers", "authorization, content-type, idempotency-key"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("access-control-allow-origin"), "https://app.example.zm");
  EXPECT_EQ(pre.header("access-control-allow-headers"), "authorization, content-type, idempotency-key");
  EXPECT_NE(pre.header("access-control-allow-methods").find("POST"), std::string::npos);
  EXPECT_EQ(pre.header("access-control-max-age"), "600");
  EXPECT_EQ(pre.header("access-control-allow-credentials"), "true");
  // The real request still needs a token, and its 401 carries CORS headers for the browser.
  const auto real =
      request(s.port(), "POST", "/api/v1/notifications", {{"Origin", "https://app.example.zm"}});
  EXPECT_EQ(real.status, 401);
  EXPECT_EQ(real.header("access-control-allow-origin"), "https://app.example.zm");
}

TEST(Cors, WildcardWithoutCredentials) {
  auto o = test::quiet_options();
  o.cors.allowed_origins = {"*"};
  o.cors.allow_credentials = false;
  TestServer s(o, router());
  const auto r = request(s.port(), "GET", "/health", {{"Origin", "https://anything.example"}});
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
  EXPECT_FALSE(r.has("access-control-allow-credentials"));
}

TEST(Cors, WildcardWithCredentialsIsRejected) {
  auto o = test::quiet_options();
  o.cors.allowed_origins = {"*"};
  boost::asio::io_context ioc;
  metrics::Registry reg;
  EXPECT_THROW(Server(ioc, o, Router{}, reg), std::invalid_argument);
}

// Rate limit

TEST(RateLimit, EmptyBucketIs429WithRetryAfter) {
  auto o = test::quiet_options();
  o.rate_limit.enabled = true;
  o.rate_limit.rate_per_second = 0.5;
  o.rate_limit.burst = 2;
  TestServer s(o, router());
  EXPECT_EQ(request(s.port(), "GET", "/health").status, 200);
  EXPECT_EQ(request(s.port(), "GET", "/health").status, 200);
  const auto r = request(s.port(), "GET", "/health");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_code(), "rate_limited");
  const int retry = std::stoi(r.header("retry-after"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 2);
}

TEST(MemoryBucketStore, RefillsOverTime) {
  MemoryBucketStore store(1000, 300s);
  const RateLimit limit{10, 2};
  const auto t0 = MemoryBucketStore::Clock::now();
  EXPECT_TRUE(store.take_at("ip", limit, t0).allowed);
  EXPECT_TRUE(store.take_at("ip", limit, t0).allowed);
  const auto refused = store.take_at("ip", limit, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 100ms);
  EXPECT_TRUE(store.take_at("ip", limit, t0 + 100ms).allowed);
  EXPECT_TRUE(store.take_at("other", limit, t0).allowed);
}

TEST(MemoryBucketStore, MemoryIsBounded) {
  MemoryBucketStore store(160, 300s);
  const RateLimit limit{1, 5};
  const auto t0 = MemoryBucketStore::Clock::now();
  for (int i = 0; i < 5000; ++i) store.take_at("ip-" + std::to_string(i), limit, t0);
  EXPECT_LE(store.size(), 160u);
}

// API version

TEST(ApiVersion, UnsupportedVersionIs404) {
  TestServer s(test::quiet_options(), router());
  EXPECT_EQ(request(s.port(), "GET", "/api/v1/things/7").status, 200);
  const auto r = request(s.port(), "GET", "/api/v2/things/7");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error_code(), "unsupported_api_version");
  EXPECT_EQ(request(s.port(), "GET", "/api/v9").error_code(), "unsupported_api_version");
  EXPECT_EQ(request(s.port(), "GET", "/api/vx/things").error_code(), "not_found");
}

// Metrics

TEST(HttpMetrics, CountsByRoutePatternAndStatus) {
  TestServer s(test::quiet_options(), router());
  request(s.port(), "GET", "/api/v1/things/1");
  request(s.port(), "GET", "/api/v1/things/2");
  request(s.port(), "GET", "/nope/at/all");
  const std::string text = s.registry().render();
  EXPECT_NE(text.find("http_requests_total{method=\"GET\",route=\"/api/v1/things/{id}\",status=\"200\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(
      text.find("http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/things/{id}\",status="
                "\"200\"} 2"),
      std::string::npos);
  EXPECT_EQ(text.find("things/1"), std::string::npos);
}

}  // namespace
}  // namespace comms::http
