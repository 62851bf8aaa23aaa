#include "bus/inprocess/inprocess_bus.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <stdexcept>

#include "bus/masstransit.h"
#include "common/metrics.h"
#include "run_coro.h"

namespace comms::bus {
namespace {

namespace asio = boost::asio;
using test::run_coro;

class InProcessBusTest : public ::testing::Test {
 protected:
  InProcessBus& bus(int retry_limit = 2) {
    InProcessOptions o;
    o.retry_limit = retry_limit;
    o.dead_letter_capacity = 3;
    bus_ = std::make_unique<InProcessBus>(io_, registry_, o);
    return *bus_;
  }
  double metric(const std::string& line) {
    const std::string text = registry_.render();
    const auto at = text.find(line + " ");
    if (at == std::string::npos) return 0;
    return std::stod(text.substr(at + line.size() + 1));
  }

  asio::io_context io_;
  metrics::Registry registry_;
  std::unique_ptr<InProcessBus> bus_;
};

TEST_F(InProcessBusTest, DeliversToTheConsumerOfTheType) {
  auto& b = bus();
  std::vector<Envelope> got;
  b.subscribe("LoanApplicationCreated", [&](const Envelope& e) -> asio::awaitable<HandleResult> {
    got.push_back(e);
    co_return HandleResult{};
  });
  int others = 0;
  b.subscribe("LoanDisbursed", [&](const Envelope&) -> asio::awaitable<HandleResult> {
    ++others;
    co_return HandleResult{};
  });
  b.start();
  run_coro(io_, b.publish("LoanApplicationCreated", R"({"applicationId":"A-1"})", {"m-1", "corr-1", ""}));
  ASSERT_EQ(got.size(), 1u);  // publish() completed after the consumer ran
  EXPECT_EQ(others, 0);
  EXPECT_EQ(got[0].message_id, "m-1");
  EXPECT_EQ(got[0].correlation_id, "corr-1");
  EXPECT_EQ(got[0].type_name(), "LoanApplicationCreated");
  EXPECT_EQ(got[0].message_type[0], "urn:message:IntelliFin.Contracts:LoanApplicationCreated");
  EXPECT_EQ(boost::json::parse(got[0].message).at("applicationId"), "A-1");
  EXPECT_FALSE(got[0].sent_time.empty());
  EXPECT_TRUE(b.dead_letters().empty());
  EXPECT_EQ(metric("comms_bus_acked_total{type=\"LoanApplicationCreated\"}"), 1);
  EXPECT_EQ(metric("comms_bus_published_total{type=\"LoanApplicationCreated\"}"), 1);
}

TEST_F(InProcessBusTest, PublishOfAnUnconsumedTypeGoesNowhere) {
  auto& b = bus();
  b.start();
  run_coro(io_, b.publish("NotificationDelivered", R"({"id":"n1"})", {}));
  EXPECT_TRUE(b.dead_letters().empty());
  EXPECT_EQ(metric("comms_bus_published_total{type=\"NotificationDelivered\"}"), 1);
}

TEST_F(InProcessBusTest, UnknownTypeDeliveredIsSkipped) {
  auto& b = bus();
  b.subscribe("LoanDisbursed",
              [](const Envelope&) -> asio::awaitable<HandleResult> { co_return HandleResult{}; });
  b.start();
  Envelope e =
      decode_envelope(R"({"messageId":"x","messageType":["urn:message:Other:Mystery"],"message":{}})");
  const Verdict v = run_coro(io_, b.deliver(e));
  EXPECT_EQ(v.kind, Verdict::Kind::skip);
  const auto dead = b.dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].queue, "communications_skipped");
  EXPECT_EQ(dead[0].reason, "dead-letter");
  EXPECT_EQ(dead[0].type, "Mystery");
  EXPECT_EQ(dead[0].envelope.message_id, "x");
  EXPECT_EQ(metric("comms_bus_skipped_total{type=\"Mystery\"}"), 1);
}

TEST_F(InProcessBusTest, RoutesBySecondaryMessageType) {
  auto& b = bus();
  int n = 0;
  b.subscribe("ILoanEvent", [&](const Envelope&) -> asio::awaitable<HandleResult> {
    ++n;
    co_return HandleResult{};
  });
  b.start();
  Envelope e = decode_envelope(
      R"({"messageType":["urn:message:Ns:LoanDisbursed","urn:message:Ns:ILoanEvent"],"message":{}})");
  EXPECT_EQ(run_coro(io_, b.deliver(e)).kind, Verdict::Kind::ack);
  EXPECT_EQ(n, 1);
}

TEST_F(InProcessBusTest, FaultIsRecordedWithoutRetry) {
  auto& b = bus();
  int calls = 0;
  b.subscribe("OtpRequested", [&](const Envelope&) -> asio::awaitable<HandleResult> {
    ++calls;
    co_return HandleResult{Outcome::fault, "customerPhone: not an E.164 number"};
  });
  b.start();
  run_coro(io_, b.publish("OtpRequested", R"({"customerPhone":"abc"})", {}));
  EXPECT_EQ(calls, 1);
  const auto dead = b.dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].queue, "communications_error");
  EXPECT_EQ(dead[0].reason, "fault");
  EXPECT_EQ(dead[0].fault_message, "customerPhone: not an E.164 number");
  EXPECT_EQ(dead[0].exception_type, kConsumerFaultType);
  EXPECT_EQ(metric("comms_bus_faulted_total{type=\"OtpRequested\"}"), 1);
}

TEST_F(InProcessBusTest, RetryThenSucceed) {
  auto& b = bus(2);
  int calls = 0;
  b.subscribe("PaymentReceived", [&](const Envelope&) -> asio::awaitable<HandleResult> {
    if (++calls < 3) co_return HandleResult{Outcome::retry, "database busy"};
    co_return HandleResult{};
  });
  b.start();
  run_coro(io_, b.publish("PaymentReceived", "{}", {}));
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(b.dead_letters().empty());
  EXPECT_EQ(metric("comms_bus_retries_total{type=\"PaymentReceived\"}"), 2);
}

TEST_F(InProcessBusTest, RetryLimitThenFault) {
  auto& b = bus(2);
  int calls = 0;
  b.subscribe("PaymentReceived", [&](const Envelope&) -> asio::awaitable<HandleResult> {
    ++calls;
    throw std::runtime_error("store unavailable");
    co_return HandleResult{};
  });
  b.start();
  run_coro(io_, b.publish("PaymentReceived", "{}", {}));
  EXPECT_EQ(calls, 3);  // first call + 2 retries
  const auto dead = b.dead_letters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].fault_message, "store unavailable");
  EXPECT_EQ(dead[0].exception_type, "std::runtime_error");
}

TEST_F(InProcessBusTest, DeadLetterListIsBounded) {
  auto& b = bus();
  b.start();
  for (int i = 0; i < 5; ++i) {
    Envelope e;
    e.message_id = std::to_string(i);
    e.message_type = {"urn:message:Ns:Nope"};
    e.message = "{}";
    run_coro(io_, b.deliver(e));
  }
  const auto dead = b.dead_letters();
  ASSERT_EQ(dead.size(), 3u);
  EXPECT_EQ(dead.front().envelope.message_id, "2");
  EXPECT_EQ(dead.back().envelope.message_id, "4");
}

TEST_F(InProcessBusTest, PublishAfterStopFails) {
  auto& b = bus();
  b.subscribe("T", [](const Envelope&) -> asio::awaitable<HandleResult> { co_return HandleResult{}; });
  b.start();
  run_coro(io_, b.stop(std::chrono::milliseconds(100)));
  EXPECT_THROW(run_coro(io_, b.publish("T", "{}", {})), PublishError);
  EXPECT_THROW(run_coro(io_, b.publish("T", "[]", {})), std::invalid_argument);
}

TEST_F(InProcessBusTest, SubscribeAfterStartIsABug) {
  auto& b = bus();
  b.start();
  EXPECT_THROW(
      b.subscribe("T", [](const Envelope&) -> asio::awaitable<HandleResult> { co_return HandleResult{}; }),
      std::logic_error);
}

}  // namespace
}  // namespace comms::bus
