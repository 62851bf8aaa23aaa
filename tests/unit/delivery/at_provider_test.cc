// The Africa's Talking adapter against the contract-faithful fake server (a separate process).
#include "delivery/sms/africastalking/at_provider.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "common/metrics.h"
#include "fake_peer.h"
#include "run_coro.h"

namespace comms::delivery {
namespace {

using namespace std::chrono_literals;

class AtProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::FakeAfricasTalking::available()) GTEST_SKIP() << "fake Africa's Talking server not available";
    fake_ = std::make_unique<test::FakeAfricasTalking>();
  }
  std::unique_ptr<AfricasTalkingProvider> provider(int concurrency = 4,
                                                   std::chrono::milliseconds window = 50ms,
                                                   std::chrono::milliseconds timeout = 2000ms) {
    AfricasTalkingOptions o;
    o.username = "tester";
    o.api_key = "secret-key-123";
    o.sender_id = "IFIN";
    o.base_url = fake_->base_url();
    o.concurrency = concurrency;
    o.batch_window = window;
    return std::make_unique<AfricasTalkingProvider>(o, timeout, &registry_);
  }
  static Outgoing msg(std::string id, std::string to, std::string text) {
    Outgoing m;
    m.notification_id = std::move(id);
    m.to = std::move(to);
    m.text = std::move(text);
    return m;
  }
  // Sends all messages concurrently and returns their results in order.
  static std::vector<ProviderResult> send_all(Provider& p, const std::vector<Outgoing>& msgs) {
    boost::asio::io_context io;
    std::vector<ProviderResult> out(msgs.size());
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      boost::asio::co_spawn(
          io, [&, i]() -> boost::asio::awaitable<void> { out[i] = co_await p.send(msgs[i]); },
          boost::asio::detached);
    }
    io.run();
    return out;
  }
  std::size_t api_requests() { return fake_->get("requests").as_array().size(); }

  metrics::Registry registry_;
  std::unique_ptr<test::FakeAfricasTalking> fake_;
};

TEST_F(AtProviderTest, SendsTheDocumentedRequestAndParsesTheReply) {
  auto p = provider();
  const auto r = test::run_coro(p->send(msg("n1", "+260971234567", "Your loan of K500 is approved")));
  ASSERT_EQ(r.fault, Fault::none) << r.result.error;
  EXPECT_TRUE(r.result.provider_message_id.starts_with("ATXid_"));
  EXPECT_EQ(r.result.cost_micros, 250000);
  EXPECT_EQ(r.result.currency, "ZMW");
  const auto reqs = fake_->get("requests").as_array();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& q = reqs[0].as_object();
  EXPECT_EQ(q.at("content_type"), "application/x-www-form-urlencoded");
  const auto& f = q.at("fields").as_object();
  EXPECT_EQ(f.at("username"), "tester");
  EXPECT_EQ(f.at("to"), "+260971234567");
  EXPECT_EQ(f.at("message"), "Your loan of K500 is approved");
  EXPECT_EQ(f.at("from"), "IFIN");
  const auto& h = q.at("headers").as_object();
  EXPECT_EQ(h.at("apiKey"), "secret-key-123");
  EXPECT_EQ(h.at("Accept"), "application/json");
}

TEST_F(AtProviderTest, IdenticalTextsShareOneRequest) {
  auto p = provider();
  std::vector<Outgoing> msgs;
  for (int i = 0; i < 30; ++i)
    msgs.push_back(
        msg("n" + std::to_string(i), "+26097100" + std::to_string(1000 + i), "Branch closed on Friday"));
  const auto results = send_all(*p, msgs);
  std::set<std::string> ids;
  for (const auto& r : results) {
    ASSERT_EQ(r.fault, Fault::none) << r.result.error;
    ids.insert(r.result.provider_message_id);
  }
  EXPECT_EQ(ids.size(), 30u) << "each recipient keeps its own message id";
  EXPECT_EQ(api_requests(), 1u);
  EXPECT_EQ(fake_->get("stats").as_object().at("accepted").as_int64(), 30);
}

TEST_F(AtProviderTest, BatchesRespectTheMaximum) {
  AfricasTalkingOptions o;
  o.username = "tester";
  o.api_key = "secret-key-123";
  o.base_url = fake_->base_url();
  o.batch_max = 7;
  o.batch_window = 100ms;
  AfricasTalkingProvider p(o, 2000ms, nullptr);
  std::vector<Outgoing> msgs;
  for (int i = 0; i < 20; ++i)
    msgs.push_back(msg("n" + std::to_string(i), "+26096200" + std::to_string(1000 + i), "Same"));
  for (const auto& r : send_all(p, msgs)) ASSERT_EQ(r.fault, Fault::none) << r.result.error;
  EXPECT_EQ(api_requests(), 3u);  // 7 + 7 + 6
}

TEST_F(AtProviderTest, SameNumberTwiceIsNotMergedIntoOneRequest) {
  auto p = provider();
  const auto results = send_all(*p, {msg("a", "+260971234567", "Dup"), msg("b", "+260971234567", "Dup")});
  EXPECT_EQ(results[0].fault, Fault::none);
  EXPECT_EQ(results[1].fault, Fault::none);
  EXPECT_NE(results[0].result.provider_message_id, results[1].result.provider_message_id);
  EXPECT_EQ(api_requests(), 2u);
}

TEST_F(AtProviderTest, PersonalisedTextsGoConcurrentlyUnderTheCap) {
  fake_->configure(R"({"delay_ms": 300})");
  auto p = provider(4, 0ms);
  std::vector<Outgoing> msgs;
  for (int i = 0; i < 8; ++i)
    msgs.push_back(msg("n" + std::to_string(i), "+26097700" + std::to_string(1000 + i),
                       "Hello customer " + std::to_string(i)));
  const auto start = std::chrono::steady_clock::now();
  for (const auto& r : send_all(*p, msgs)) ASSERT_EQ(r.fault, Fault::none) << r.result.error;
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, 600ms) << "at most 4 at a time: two rounds";
  EXPECT_LT(elapsed, 2100ms) << "but 4 at a time, not one by one (sequential: 2400 ms)";
  EXPECT_EQ(api_requests(), 8u);
}

TEST_F(AtProviderTest, PerRecipientFailuresAreClassifiedWithinABatch) {
  fake_->configure(R"({"recipient_status": {"+260970000001": 403, "+260970000002": 500, "+260970000003": 407,
                       "+260970000004": 405}})");
  auto p = provider();
  const auto r = send_all(*p, {msg("ok", "+260970000000", "T"), msg("bad", "+260970000001", "T"),
                               msg("busy", "+260970000002", "T"), msg("route", "+260970000003", "T"),
                               msg("money", "+260970000004", "T")});
  EXPECT_EQ(api_requests(), 1u);
  EXPECT_EQ(r[0].fault, Fault::none);
  EXPECT_EQ(r[1].fault, Fault::rejected);
  EXPECT_EQ(r[1].result.error, "403 InvalidPhoneNumber");
  EXPECT_EQ(r[2].fault, Fault::unavailable);
  EXPECT_EQ(r[3].fault, Fault::unroutable);
  EXPECT_EQ(r[4].fault, Fault::unavailable);
  EXPECT_EQ(r[4].alert, "InsufficientBalance");
}

TEST_F(AtProviderTest, BadCredentialsArePermanentWithAnAlert) {
  fake_->configure(R"({"force_401": true})");
  auto p = provider();
  const auto r = test::run_coro(p->send(msg("n1", "+260971234567", "x")));
  EXPECT_EQ(r.fault, Fault::rejected);
  EXPECT_EQ(r.alert, "http_401_credentials");
  EXPECT_EQ(r.result.error, "HTTP 401: The supplied authentication is invalid");
  EXPECT_EQ(r.result.error.find("secret-key-123"), std::string::npos);
}

TEST_F(AtProviderTest, ServerErrorsAreTransient) {
  fake_->configure(R"({"burst": {"count": 1, "status": 503}})");
  auto p = provider();
  const auto r = test::run_coro(p->send(msg("n1", "+260971234567", "x")));
  EXPECT_EQ(r.fault, Fault::unavailable);
  EXPECT_EQ(r.result.kind, SendResult::Kind::transient);
  EXPECT_EQ(test::run_coro(p->send(msg("n2", "+260971234567", "x"))).fault, Fault::none);
}

TEST_F(AtProviderTest, TimeoutAfterSendingIsAmbiguous) {
  fake_->configure(R"({"hang": true})");
  auto p = provider(4, 0ms, 500ms);
  const auto start = std::chrono::steady_clock::now();
  const auto r = test::run_coro(p->send(msg("n1", "+260971234567", "x")));
  EXPECT_EQ(r.fault, Fault::ambiguous) << r.result.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  fake_->configure(R"({"hang": false})");
  EXPECT_EQ(api_requests(), 1u);
}

TEST_F(AtProviderTest, ARequestLostOnAKeptAliveConnectionIsNotSilentlyResent) {
  auto p = provider(1, 0ms);
  ASSERT_EQ(test::run_coro(p->send(msg("warm", "+260971234567", "x"))).fault, Fault::none);
  fake_->configure(R"({"hangup": true})");
  const auto r = test::run_coro(p->send(msg("n1", "+260971234568", "y")));
  EXPECT_EQ(r.fault, Fault::ambiguous) << r.result.error;
  EXPECT_NE(r.result.error.find("re-send refused"), std::string::npos) << r.result.error;
  EXPECT_EQ(api_requests(), 2u) << "libcurl's automatic re-send on a fresh connection must be refused";
}

TEST_F(AtProviderTest, RefusedConnectionIsUnavailable) {
  AfricasTalkingOptions o;
  o.username = "tester";
  o.api_key = "k";
  o.base_url = "http://127.0.0.1:1";
  AfricasTalkingProvider p(o, 1000ms, nullptr);
  const auto r = test::run_coro(p.send(msg("n1", "+260971234567", "x")));
  EXPECT_EQ(r.fault, Fault::unavailable) << r.result.error;
}

TEST_F(AtProviderTest, DestroyingTheProviderCompletesQueuedSends) {
  fake_->configure(R"({"delay_ms": 300})");
  boost::asio::io_context io;
  std::vector<ProviderResult> out(3);
  {
    auto p = provider(1, 0ms);
    for (int i = 0; i < 3; ++i) {
      boost::asio::co_spawn(
          io,
          [&, i]() -> boost::asio::awaitable<void> {
            out[i] = co_await p->send(
                msg("n" + std::to_string(i), "+26097123456" + std::to_string(i), "t" + std::to_string(i)));
          },
          boost::asio::detached);
    }
    io.run_for(100ms);  // the first request is in flight, two are queued
  }
  io.run();
  int sent = 0, cancelled = 0;
  for (const auto& r : out) {
    if (r.fault == Fault::none) ++sent;
    if (r.fault == Fault::unavailable) ++cancelled;
  }
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(cancelled, 2);
}

}  // namespace
}  // namespace comms::delivery
