#include "bus/outbox_relay.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "bus/inprocess/inprocess_bus.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/metrics.h"

namespace comms::bus {
namespace {

namespace asio = boost::asio;

// A bus that records publishes and fails the ones `fail` picks.
class FakeBus : public MessageBus {
 public:
  std::function<bool(const std::string& id)> fail = [](const std::string&) { return false; };
  std::mutex mu;
  std::vector<std::string> calls;  // message ids, in call order

  void subscribe(const std::string&, Consumer) override {}
  void start() override {}
  asio::awaitable<void> publish(const std::string&, const std::string&, PublishOptions o) override {
    {
      std::lock_guard lock(mu);
      calls.push_back(o.message_id);
    }
    if (fail(o.message_id)) throw PublishError("connection lost before the broker confirmed");
    co_return;
  }
  asio::awaitable<void> stop(std::chrono::milliseconds) override { co_return; }
  bool connected() const override { return true; }
  std::string name() const override { return "fake"; }
};

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("comms-outbox-test-" + new_uuid());
    store::StoreOptions o;
    o.url = "sqlite:" + (dir_ / "store.db").string();
    o.synchronous_full = false;
    store_ = store::open_store(o);
    store_->migrate();
    io_thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    work_.reset();
    io_.stop();
    io_thread_.join();
    store_->close();
    std::filesystem::remove_all(dir_);
  }

  std::vector<store::OutboxMessage> add_rows(int n) {
    std::vector<store::OutboxMessage> out;
    store::write_sync(*store_, [&](store::UnitOfWork& uow) {
      for (int i = 0; i < n; ++i) {
        store::OutboxMessage m;
        m.id = new_uuid();
        m.message_type = i % 2 ? "NotificationDelivered" : "NotificationSent";
        m.payload = R"({"notificationId":"n)" + std::to_string(i) + R"("})";
        m.correlation_id = "corr-" + std::to_string(i);
        m.created_at = now_ms();
        uow.outbox().add(m);
        out.push_back(m);
      }
    });
    return out;
  }
  std::vector<store::OutboxMessage> pending() {
    std::vector<store::OutboxMessage> out;
    store::read_sync(*store_, [&](store::UnitOfWork& uow) { out = uow.outbox().pending(1000); });
    return out;
  }
  bool wait_until(const std::function<bool()>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
  }
  void stop(OutboxRelay& relay) {
    asio::co_spawn(io_, relay.stop(std::chrono::seconds(5)), asio::use_future).get();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::thread io_thread_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  metrics::Registry registry_;
};

TEST_F(OutboxRelayTest, PublishesInSeqOrderThroughTheInProcessBus) {
  InProcessBus bus(io_, registry_, {});
  std::mutex mu;
  std::vector<Envelope> seen;
  for (const char* type : {"NotificationSent", "NotificationDelivered"}) {
    bus.subscribe(type, [&](const Envelope& e) -> asio::awaitable<HandleResult> {
      std::lock_guard lock(mu);
      seen.push_back(e);
      co_return HandleResult{};
    });
  }
  bus.start();
  const auto rows = add_rows(7);
  OutboxOptions o;
  o.batch = 3;
  o.poll = std::chrono::milliseconds(20);
  OutboxRelay relay(io_, *store_, bus, registry_, o);
  relay.start();
  ASSERT_TRUE(wait_until([&] { return pending().empty(); }));
  stop(relay);
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), rows.size());
  // Handlers of one batch run concurrently, so compare as sets; CallsTheBusInSeqOrder checks the order.
  std::map<std::string, std::string> by_id;
  for (const auto& e : seen) by_id[e.message_id] = e.correlation_id;
  for (const auto& r : rows) EXPECT_EQ(by_id[r.id], r.correlation_id) << r.id;
  EXPECT_NE(registry_.render().find("comms_outbox_published_total 7"), std::string::npos);
}

TEST_F(OutboxRelayTest, CallsTheBusInSeqOrder) {
  FakeBus bus;
  const auto rows = add_rows(10);
  OutboxOptions o;
  o.batch = 4;
  o.poll = std::chrono::milliseconds(20);
  OutboxRelay relay(io_, *store_, bus, registry_, o);
  relay.start();
  ASSERT_TRUE(wait_until([&] { return pending().empty(); }));
  stop(relay);
  std::lock_guard lock(bus.mu);
  ASSERT_EQ(bus.calls.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(bus.calls[i], rows[i].id) << i;
}

TEST_F(OutboxRelayTest, FailureIsRecordedOnTheRowAndRetriedInOrder) {
  FakeBus bus;
  const auto rows = add_rows(5);
  std::atomic<int> failures_left{2};
  // Row 2 fails twice, and everything after it in the same round fails with it (a lost connection).
  bus.fail = [&, failing = false](const std::string& id) mutable {
    if (id == rows[2].id) failing = failures_left-- > 0;
    if (id == rows[0].id) failing = false;
    return failing;
  };
  OutboxOptions o;
  o.batch = 10;
  o.poll = std::chrono::milliseconds(20);
  o.retry_base = std::chrono::milliseconds(10);
  OutboxRelay relay(io_, *store_, bus, registry_, o);
  relay.start();
  ASSERT_TRUE(wait_until([&] {
    const auto p = pending();
    return !p.empty() && p.front().attempts >= 1;
  }));
  {
    const auto p = pending();
    ASSERT_EQ(p.front().seq, rows[2].seq);  // rows 0 and 1 went out
    EXPECT_EQ(p.front().last_error, "connection lost before the broker confirmed");
  }
  ASSERT_TRUE(wait_until([&] { return pending().empty(); }));
  stop(relay);
  std::lock_guard lock(bus.mu);
  // Round 1: 0 1 2x 3x 4x; round 2: 2x 3x 4x; round 3: 2 3 4.
  const std::vector<std::string> want = {rows[0].id, rows[1].id, rows[2].id, rows[3].id,
                                         rows[4].id, rows[2].id, rows[3].id, rows[4].id,
                                         rows[2].id, rows[3].id, rows[4].id};
  EXPECT_EQ(bus.calls, want);
}

TEST_F(OutboxRelayTest, LocalConsumersGetConfirmedRowsAndARetryKeepsTheRowUnpublished) {
  FakeBus bus;
  const auto rows = add_rows(6);  // Sent, Delivered, Sent, Delivered, Sent, Delivered
  // Row 3 (Delivered) fails on the bus once; row 4 (Sent)'s local consumer asks for a retry once.
  std::atomic<int> bus_failures{1};
  bus.fail = [&](const std::string& id) { return id == rows[3].id && bus_failures-- > 0; };
  std::mutex mu;
  std::vector<Envelope> local;
  std::atomic<int> retries{1};
  OutboxOptions o;
  o.batch = 10;
  o.poll = std::chrono::milliseconds(20);
  o.retry_base = std::chrono::milliseconds(10);
  OutboxRelay relay(io_, *store_, bus, registry_, o);
  relay.deliver_locally("NotificationSent", [&](const Envelope& e) -> asio::awaitable<HandleResult> {
    if (e.message_id == rows[4].id && retries-- > 0) co_return HandleResult{Outcome::retry, "store busy"};
    std::lock_guard lock(mu);
    local.push_back(e);
    co_return HandleResult{};
  });
  relay.start();
  ASSERT_TRUE(wait_until([&] {
    const auto p = pending();
    return p.size() == 2 && p.front().attempts >= 1;  // rows 3 and 4 after the first round
  }));
  EXPECT_EQ(pending()[1].last_error, "local consumer: store busy");
  ASSERT_TRUE(wait_until([&] { return pending().empty(); }));
  stop(relay);
  std::lock_guard lock(mu);
  // Every Sent row once (the retried one after it was published again), no Delivered row; each with
  // the id, correlation id and payload the bus carried.
  std::map<std::string, const Envelope*> by_id;
  for (const auto& e : local) by_id[e.message_id] = &e;
  ASSERT_EQ(local.size(), 3u);
  for (int i : {0, 2, 4}) {
    ASSERT_TRUE(by_id.count(rows[i].id)) << i;
    EXPECT_EQ(by_id[rows[i].id]->correlation_id, rows[i].correlation_id);
    EXPECT_EQ(by_id[rows[i].id]->message, rows[i].payload);
  }
  std::lock_guard bus_lock(bus.mu);
  EXPECT_EQ(std::count(bus.calls.begin(), bus.calls.end(), rows[4].id), 2);  // published again
}

TEST_F(OutboxRelayTest, ALocalConsumerThatAlwaysFailsIsGivenUpOnWithoutHoldingTheRelayBack) {
  FakeBus bus;
  const auto rows = add_rows(1);  // one NotificationSent
  std::atomic<int> calls{0};
  OutboxOptions o;
  o.poll = std::chrono::milliseconds(10);
  o.retry_base = std::chrono::seconds(30);  // a relay backoff would stall this test
  OutboxRelay relay(io_, *store_, bus, registry_, o);
  relay.deliver_locally("NotificationSent", [&](const Envelope& e) -> asio::awaitable<HandleResult> {
    ++calls;
    if (e.message_id == rows[0].id) throw std::runtime_error("a bug");
    co_return HandleResult{};
  });
  relay.start();
  ASSERT_TRUE(wait_until([&] { return pending().empty(); }));
  add_rows(1);  // the relay carries on
  relay.wake();
  ASSERT_TRUE(wait_until([&] { return pending().empty() && calls.load() == 11; }));
  stop(relay);
  EXPECT_EQ(calls.load(), 11);  // ten tries of the first row, then the second row once
}

TEST_F(OutboxRelayTest, WakeCutsThePollShort) {
  FakeBus bus;
  OutboxOptions o;
  o.poll = std::chrono::seconds(30);
  OutboxRelay relay(io_, *store_, bus, registry_, o);
  relay.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // first round found nothing; now sleeping
  add_rows(1);
  relay.wake();
  EXPECT_TRUE(wait_until([&] { return pending().empty(); }, std::chrono::seconds(3)));
  stop(relay);
}

}  // namespace
}  // namespace comms::bus
