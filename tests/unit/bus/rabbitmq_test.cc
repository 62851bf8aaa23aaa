// Tests of the RabbitMQ bus against a real broker. Skipped unless
// COMMS_TEST_AMQP_URL names one; tests/integration/test_bus_rabbitmq.py starts
// a broker, sets it, and drives the Harness.* scenarios from an independent
// client (pika).
//
// Harness scenarios (COMMS_TEST_BUS_SCENARIO selects one; every name is per
// test, so runs never share queues or exchanges):
//   consume  subscribe COMMS_TEST_BUS_TYPES on COMMS_TEST_BUS_QUEUE and handle
//            what arrives; the payload's "behaviour" (looked up
//            case-insensitively) picks done, fault, retry, throw, flaky
//            (retry once per message id) or sleep (sleepMs, or until the file holdUntilFile exists); prints
//            "HARNESS READY", "HARNESS PROGRESS <n>" and at the end
//            "HARNESS RESULT {json}"; ends when COMMS_TEST_BUS_EXPECT distinct
//            messages were handled, or COMMS_TEST_BUS_STOP_FILE exists.
//   publish  publish COMMS_TEST_BUS_COUNT messages {"n": i} of the first type.
//   outbox   write COMMS_TEST_BUS_COUNT outbox rows alternating the types to a
//            fresh SQLite store and let the OutboxRelay publish them.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "bus/make_bus.h"
#include "bus/masstransit.h"
#include "bus/outbox_relay.h"
#include "bus/rabbitmq/rabbitmq_bus.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/metrics.h"
#include "store/store.h"

namespace comms::bus {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

std::string env(const char* name, std::string fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// An io_context on two threads, as in the service.
class Runtime {
 public:
  Runtime() {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io.run(); });
  }
  ~Runtime() {
    work_.reset();
    io.stop();
    for (auto& t : threads_) t.join();
  }
  template <class T>
  T run(asio::awaitable<T> a) {
    return asio::co_spawn(io, std::move(a), asio::use_future).get();
  }

  asio::io_context io;

 private:
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io);
  std::vector<std::thread> threads_;
};

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

BusOptions options_from_env() {
  BusOptions o;
  o.url = env("COMMS_TEST_AMQP_URL");
  o.ns = env("COMMS_TEST_BUS_NS", "T" + new_uuid().substr(0, 8) + ".Contracts");
  o.queue = env("COMMS_TEST_BUS_QUEUE", "communications-" + new_uuid().substr(0, 8));
  o.prefetch = std::stoi(env("COMMS_TEST_BUS_PREFETCH", "64"));
  o.retry_limit = std::stoi(env("COMMS_TEST_BUS_RETRY_LIMIT", "2"));
  o.reconnect_min = 100ms;
  o.reconnect_max = 2000ms;
  o.heartbeat_seconds = 10;
  return o;
}

class RabbitMqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("COMMS_TEST_AMQP_URL").empty()) GTEST_SKIP() << "set COMMS_TEST_AMQP_URL to run against a broker";
  }
};

TEST_F(RabbitMqTest, PublishesAndConsumesItsOwnTypes) {
  Runtime rt;
  metrics::Registry registry;
  const BusOptions o = options_from_env();
  auto bus = make_bus(o, rt.io, registry);
  ASSERT_EQ(bus->name(), "rabbitmq");
  std::mutex mu;
  std::vector<Envelope> got;
  bus->subscribe("NotificationSent", [&](const Envelope& e) -> asio::awaitable<HandleResult> {
    std::lock_guard lock(mu);
    got.push_back(e);
    co_return HandleResult{};
  });
  bus->start();
  ASSERT_TRUE(wait_until([&] { return bus->connected(); }, 15s));
  for (int i = 0; i < 20; ++i)
    rt.run(bus->publish("NotificationSent", R"({"n":)" + std::to_string(i) + "}", {"", "corr", ""}));
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mu);
        return got.size() == 20;
      },
      15s));
  rt.run(bus->stop(5s));
  std::lock_guard lock(mu);
  EXPECT_EQ(got[0].correlation_id, "corr");
  EXPECT_EQ(got[0].message_type[0], "urn:message:" + o.ns + ":NotificationSent");
  EXPECT_NE(got[0].source_address.find("rabbitmq://"), std::string::npos);
  EXPECT_NE(registry.render().find("comms_bus_acked_total{type=\"NotificationSent\"} 20"), std::string::npos);
}

TEST_F(RabbitMqTest, PublishFailsFastWhenTheBrokerIsUnreachable) {
  Runtime rt;
  metrics::Registry registry;
  BusOptions o = options_from_env();
  o.url = "amqp://guest:guest@127.0.0.1:1/%2F";
  o.publish_timeout = 300ms;
  rabbitmq::RabbitMqBus bus(rt.io, registry, o);
  bus.start();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(rt.run(bus.publish("NotificationSent", "{}", {})), PublishError);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_FALSE(bus.connected());
  rt.run(bus.stop(1s));
}

TEST(RabbitMqOptions, BadUrlsAreConfigurationErrors) {
  asio::io_context io;
  metrics::Registry registry;
  BusOptions o;
  for (const char* url : {"http://host/", "amqps://u:p@host/", "nonsense"}) {
    o.url = url;
    try {
      make_bus(o, io, registry);
      ADD_FAILURE() << url;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("COMMS_BUS"), std::string::npos) << e.what();
    }
  }
  o.url = "amqp://user:s3cret@host:5673/vh";
  try {
    rabbitmq::ConnectionParams::parse("amqp://user:s3cret@host:notaport/vh");
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos);
  }
  const auto p = rabbitmq::ConnectionParams::parse(o.url);
  EXPECT_EQ(p.host, "host");
  EXPECT_EQ(p.port, 5673);
  EXPECT_EQ(p.user, "user");
  EXPECT_EQ(p.vhost, "vh");
  EXPECT_EQ(p.address("communications"), "rabbitmq://host:5673/vh/communications");
  EXPECT_EQ(rabbitmq::ConnectionParams::parse("amqp://h/%2F").address("q"), "rabbitmq://h/q");
  EXPECT_EQ(rabbitmq::ConnectionParams::parse("amqp://h:5672/").vhost, "/");
}

// ---- harness scenarios, driven by tests/integration/test_bus_rabbitmq.py ----

class Harness : public RabbitMqTest {
 protected:
  void SetUp() override {
    RabbitMqTest::SetUp();
    if (IsSkipped()) return;
    if (env("COMMS_TEST_BUS_SCENARIO") != scenario())
      GTEST_SKIP() << "scenario " << scenario() << " runs from tests/integration/test_bus_rabbitmq.py";
  }
  virtual std::string scenario() const = 0;
  static void say(const std::string& line) { std::cout << "HARNESS " << line << std::endl; }
};

class HarnessConsume : public Harness {
  std::string scenario() const override { return "consume"; }
};
class HarnessPublish : public Harness {
  std::string scenario() const override { return "publish"; }
};
class HarnessOutbox : public Harness {
  std::string scenario() const override { return "outbox"; }
};

TEST_F(HarnessConsume, Run) {
  Runtime rt;
  metrics::Registry registry;
  const BusOptions o = options_from_env();
  const std::size_t expect = std::stoul(env("COMMS_TEST_BUS_EXPECT", "0"));
  const std::string stop_file = env("COMMS_TEST_BUS_STOP_FILE");
  const auto timeout = std::chrono::seconds(std::stoi(env("COMMS_TEST_BUS_TIMEOUT_S", "60")));
  auto bus = make_bus(o, rt.io, registry);

  std::mutex mu;
  std::set<std::string> done_ids;            // guarded by mu
  std::set<std::string> flaky_seen;          // guarded by mu
  std::size_t handled = 0, redelivered = 0;  // guarded by mu
  for (const auto& type : split(env("COMMS_TEST_BUS_TYPES", "LoanApplicationCreated"))) {
    bus->subscribe(type, [&](const Envelope& e) -> asio::awaitable<HandleResult> {
      const json::object payload = json::parse(e.message).as_object();
      const json::string* b = find_string_ci(payload, "behaviour");
      const std::string behaviour = b ? std::string(*b) : "done";
      if (behaviour == "fault") co_return HandleResult{Outcome::fault, "bad payload: " + e.message_id};
      if (behaviour == "retry") co_return HandleResult{Outcome::retry, "still failing"};
      if (behaviour == "throw") throw std::runtime_error("consumer threw");
      if (behaviour == "flaky") {
        std::lock_guard lock(mu);
        if (flaky_seen.insert(e.message_id).second) co_return HandleResult{Outcome::retry, "first try fails"};
      }
      if (const json::value* ms = find_ci(payload, "sleepMs")) {
        asio::steady_timer t(co_await asio::this_coro::executor,
                             std::chrono::milliseconds(ms->to_number<int>()));
        co_await t.async_wait(asio::use_awaitable);
      }
      if (const json::string* hold = find_string_ci(payload, "holdUntilFile")) {
        // Holds the message (unacknowledged) until the test creates the file: no timing window.
        asio::steady_timer t(co_await asio::this_coro::executor);
        while (!std::filesystem::exists(std::string(*hold))) {
          t.expires_after(20ms);
          co_await t.async_wait(asio::use_awaitable);
        }
      }
      std::size_t n;
      {
        std::lock_guard lock(mu);
        ++handled;
        if (e.redelivered) ++redelivered;
        done_ids.insert(e.message_id);
        n = done_ids.size();
      }
      if (n % 100 == 0) say("PROGRESS " + std::to_string(n));
      co_return HandleResult{};
    });
  }
  bus->start();
  ASSERT_TRUE(wait_until([&] { return bus->connected(); }, 30s));
  say("READY");
  const bool finished = wait_until(
      [&] {
        if (!stop_file.empty() && std::filesystem::exists(stop_file)) return true;
        std::lock_guard lock(mu);
        return expect > 0 && done_ids.size() >= expect;
      },
      timeout);
  rt.run(bus->stop(5s));
  std::lock_guard lock(mu);
  json::object result{{"distinct", done_ids.size()}, {"handled", handled}, {"redelivered", redelivered}};
  say("RESULT " + json::serialize(result));
  EXPECT_TRUE(finished) << "timed out with " << done_ids.size() << " of " << expect;
  if (expect > 0) {
    EXPECT_EQ(done_ids.size(), expect);
  }
}

TEST_F(HarnessPublish, Run) {
  Runtime rt;
  metrics::Registry registry;
  const BusOptions o = options_from_env();
  const int count = std::stoi(env("COMMS_TEST_BUS_COUNT", "100"));
  const std::string type = split(env("COMMS_TEST_BUS_TYPES", "NotificationSent")).at(0);
  auto bus = make_bus(o, rt.io, registry);
  bus->start();
  ASSERT_TRUE(wait_until([&] { return bus->connected(); }, 30s));
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < count; ++i) {
    PublishOptions po;
    po.correlation_id = "corr-" + std::to_string(i);
    rt.run(bus->publish(
        type, R"({"n":)" + std::to_string(i) + R"(,"notificationId":"n-)" + std::to_string(i) + R"("})", po));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rt.run(bus->stop(5s));
  say("RESULT " + json::serialize(json::object{{"published", count}, {"seconds", secs}}));
}

TEST_F(HarnessOutbox, Run) {
  Runtime rt;
  metrics::Registry registry;
  const BusOptions o = options_from_env();
  const int count = std::stoi(env("COMMS_TEST_BUS_COUNT", "100"));
  const int rate = std::stoi(env("COMMS_TEST_BUS_RATE", "0"));  // rows/s written while relaying; 0: all first
  const auto types = split(env("COMMS_TEST_BUS_TYPES", "NotificationSent,NotificationDelivered"));
  const auto dir = std::filesystem::temp_directory_path() / ("comms-outbox-harness-" + new_uuid());
  store::StoreOptions so;
  so.url = "sqlite:" + (dir / "store.db").string();
  so.synchronous_full = false;
  auto store = store::open_store(so);
  store->migrate();
  json::array ids;  // in seq order: one writer
  const auto write_rows = [&](int from, int to) {
    store::write_sync(*store, [&](store::UnitOfWork& uow) {
      for (int i = from; i < to; ++i) {
        store::OutboxMessage m;
        m.id = new_uuid();
        m.message_type = types[static_cast<std::size_t>(i) % types.size()];
        m.payload = R"({"n":)" + std::to_string(i) + "}";
        m.correlation_id = "corr-" + std::to_string(i);
        m.created_at = now_ms();
        uow.outbox().add(m);
        ids.emplace_back(m.id);
      }
    });
  };
  if (rate == 0) write_rows(0, count);
  auto bus = make_bus(o, rt.io, registry);
  bus->start();
  OutboxOptions oo;
  oo.batch = std::stoi(env("COMMS_TEST_BUS_BATCH", "50"));
  oo.poll = 50ms;
  OutboxRelay relay(rt.io, *store, *bus, registry, oo);
  relay.start();
  if (rate > 0) {
    // A chunk every 20 ms, as a dispatcher would commit outcomes, waking the relay each time. With
    // COMMS_TEST_BUS_WRITE_UNTIL_FILE, `count` is a minimum: writing goes on until that file exists, so
    // a test can be sure something it does meanwhile (a broker restart) happens while rows flow.
    const std::string until_file = env("COMMS_TEST_BUS_WRITE_UNTIL_FILE");
    const int chunk = std::max(1, rate / 50);
    for (int i = 0; i < count || (!until_file.empty() && !std::filesystem::exists(until_file)); i += chunk) {
      write_rows(i, i + (until_file.empty() ? std::min(chunk, count - i) : chunk));
      relay.wake();
      std::this_thread::sleep_for(20ms);
    }
  }
  const bool all = wait_until(
      [&] {
        std::size_t left = 0;
        store::read_sync(*store, [&](store::UnitOfWork& uow) { left = uow.outbox().pending(1).size(); });
        return left == 0;
      },
      std::chrono::seconds(std::stoi(env("COMMS_TEST_BUS_TIMEOUT_S", "60"))));
  rt.run(relay.stop(5s));
  rt.run(bus->stop(5s));
  store->close();
  std::filesystem::remove_all(dir);
  say("RESULT " + json::serialize(json::object{{"ids", ids}}));
  EXPECT_TRUE(all);
}

}  // namespace
}  // namespace comms::bus
