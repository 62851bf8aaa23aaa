// The hub end to end inside one process: http::Server + Hub on a real socket, driven by a Beast
// WebSocket client. The JS-client tests live in tests/integration/test_hub*.py.
#include "hub/hub.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "common/metrics.h"
#include "http/jwt.h"
#include "http/server.h"
#include "hub/protocol.h"
#include "store/store.h"

namespace comms::hub {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

constexpr char kSecret[] = "hub-unit-test-secret-0123456789abcdef";
constexpr char RS = kRecordSeparator;

// A blocking-style WebSocket client whose every wait is bounded.
class Client {
 public:
  bool connect(std::uint16_t port, const std::string& token) {
    tcp::resolver resolver(ioc_);
    asio::connect(ws_.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
    beast::error_code ec;
    ws_.handshake("127.0.0.1", "/hubs/notifications?access_token=" + token, ec);
    return !ec;
  }

  void send(const std::string& text) { ws_.write(asio::buffer(text)); }

  // The next WebSocket message, or nullopt (closed, error, or nothing within `timeout`).
  std::optional<std::string> read(std::chrono::milliseconds timeout = 5s) {
    beast::flat_buffer buffer;
    std::optional<beast::error_code> result;
    ws_.async_read(buffer, [&](beast::error_code ec, std::size_t) { result = ec; });
    ioc_.restart();
    ioc_.run_for(timeout);
    if (!result) {
      beast::get_lowest_layer(ws_).cancel();
      ioc_.restart();
      ioc_.run();
      return std::nullopt;
    }
    if (*result) {
      error_ = *result;
      return std::nullopt;
    }
    return beast::buffers_to_string(buffer.data());
  }

  // Handshakes and returns the server's answer.
  std::optional<std::string> handshake() {
    send(std::string(R"({"protocol":"json","version":1})") + RS);
    return read();
  }

  beast::error_code error() const { return error_; }
  websocket::stream<tcp::socket>& ws() { return ws_; }

 private:
  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_{ioc_};
  beast::error_code error_;
};

boost::json::value single_record(const std::string& message) {
  EXPECT_EQ(std::count(message.begin(), message.end(), RS), 1) << message;
  return boost::json::parse(std::string_view(message).substr(0, message.find(RS)));
}

class HubTest : public ::testing::Test {
 protected:
  void start(HubOptions options = {}) {
    dir_ = std::filesystem::temp_directory_path() / ("comms-hub-test-" + new_uuid());
    store::StoreOptions so;
    so.url = "sqlite:" + (dir_ / "hub.db").string();
    so.synchronous_full = false;
    store_ = store::open_store(so);
    store_->migrate();
    hub_ = std::make_unique<Hub>(io_, *store_, registry_, options);
    http::HttpOptions ho;
    ho.listen = "127.0.0.1:0";
    ho.access_log = false;
    ho.rate_limit.enabled = false;
    ho.auth.hs256_secret = kSecret;
    server_ = std::make_unique<http::Server>(io_, ho, http::Router{}, registry_);
    hub_->attach(*server_);
    server_->start();
    hub_->start();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    if (server_) {
      asio::co_spawn(
          io_,
          [this]() -> asio::awaitable<void> {
            co_await hub_->stop(1s);
            co_await server_->stop(1s);
          },
          asio::use_future)
          .get();
    }
    io_.stop();
    for (auto& t : threads_) t.join();
    server_.reset();
    hub_.reset();
    if (store_) store_->close();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string token(const std::string& sub, http::Role role = http::Role::customer,
                    const std::string& branch = "") {
    return http::mint_hs256(kSecret, sub, role, 1h, branch);
  }

  bool notify(const domain::Notification& n) {
    return asio::co_spawn(io_, hub_->notify(n), asio::use_future).get();
  }

  // Waits until the hub holds `n` connections.
  bool connections_become(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (hub_->connections() == n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return hub_->connections() == n;
  }

  static domain::Notification note(const std::string& recipient, const std::string& content = "hello") {
    domain::Notification n;
    n.id = new_uuid();
    n.recipient_id = recipient;
    n.channel = domain::Channel::inapp;
    n.subject = "Subject";
    n.content = content;
    n.created_at = now_ms();
    n.status = domain::Status::sent;
    return n;
  }

  std::uint16_t port() const { return server_->port(); }

  metrics::Registry registry_;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  asio::io_context io_{2};
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::thread> threads_;
};

TEST_F(HubTest, HandshakeThenOnlyTheAddressedUserReceives) {
  start();
  Client a, b;
  ASSERT_TRUE(a.connect(port(), token("u-a")));
  ASSERT_TRUE(b.connect(port(), token("u-b")));
  EXPECT_EQ(a.handshake(), std::string("{}") + RS);
  EXPECT_EQ(b.handshake(), std::string("{}") + RS);

  const auto for_a = note("u-a");
  EXPECT_TRUE(notify(for_a));
  const auto for_b = note("u-b");
  EXPECT_TRUE(notify(for_b));

  auto msg = a.read();
  ASSERT_TRUE(msg);
  auto v = single_record(*msg);
  EXPECT_EQ(v.at("type"), 1);
  EXPECT_EQ(v.at("target"), "ReceiveNotification");
  EXPECT_EQ(v.at("arguments").at(0).at("id"), boost::json::value(for_a.id));
  EXPECT_EQ(v.at("arguments").at(0).at("content"), "hello");
  // b's first message is its own, so a's never reached it.
  msg = b.read();
  ASSERT_TRUE(msg);
  EXPECT_EQ(single_record(*msg).at("arguments").at(0).at("id"), boost::json::value(for_b.id));

  EXPECT_FALSE(notify(note("nobody")));
}

TEST_F(HubTest, StaffGroupsReceiveBranchAndRoleNotifications) {
  start();
  Client staff, customer;
  ASSERT_TRUE(staff.connect(port(), token("s-1", http::Role::staff, "ndola")));
  ASSERT_TRUE(customer.connect(port(), token("c-1", http::Role::customer, "ndola")));
  ASSERT_TRUE(staff.handshake());
  ASSERT_TRUE(customer.handshake());
  EXPECT_TRUE(notify(note("branch:ndola")));
  EXPECT_TRUE(notify(note("role:staff")));
  EXPECT_FALSE(notify(note("branch:kitwe")));
  auto m1 = staff.read();
  auto m2 = staff.read();
  ASSERT_TRUE(m1 && m2);
  EXPECT_EQ(single_record(*m1).at("arguments").at(0).at("recipientId"), "branch:ndola");
  EXPECT_EQ(single_record(*m2).at("arguments").at(0).at("recipientId"), "role:staff");
  // A customer with a branch claim is not in the branch group: its first message is its own.
  EXPECT_TRUE(notify(note("c-1")));
  auto m3 = customer.read();
  ASSERT_TRUE(m3);
  EXPECT_EQ(single_record(*m3).at("arguments").at(0).at("recipientId"), "c-1");
}

TEST_F(HubTest, GetUnreadAndMarkRead) {
  start();
  auto mine = note("u-1", "first");
  auto theirs = note("u-2", "not yours");
  store::write_sync(*store_, [&](store::UnitOfWork& u) {
    u.notifications().insert(mine);
    u.notifications().insert(theirs);
  });
  Client c;
  ASSERT_TRUE(c.connect(port(), token("u-1")));
  ASSERT_TRUE(c.handshake());

  c.send(std::string(R"({"type":1,"invocationId":"1","target":"GetUnread","arguments":[]})") + RS);
  auto reply = c.read();
  ASSERT_TRUE(reply);
  auto v = single_record(*reply);
  EXPECT_EQ(v.at("type"), 3);
  EXPECT_EQ(v.at("invocationId"), "1");
  ASSERT_EQ(v.at("result").as_array().size(), 1u);
  EXPECT_EQ(v.at("result").at(0).at("id"), boost::json::value(mine.id));

  c.send(R"({"type":1,"invocationId":"2","target":"markread","arguments":[")" + theirs.id + "\"]}" + RS);
  reply = c.read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(single_record(*reply).at("error"),
            boost::json::value("Notification '" + theirs.id + "' was not found."));

  c.send(R"({"type":1,"invocationId":"3","target":"MarkRead","arguments":[")" + mine.id + "\"]}" + RS);
  reply = c.read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(single_record(*reply), boost::json::parse(R"({"type":3,"invocationId":"3"})"));

  c.send(std::string(R"({"type":1,"invocationId":"4","target":"GetUnread","arguments":[]})") + RS);
  reply = c.read();
  ASSERT_TRUE(reply);
  EXPECT_TRUE(single_record(*reply).at("result").as_array().empty());

  c.send(std::string(R"({"type":1,"invocationId":"5","target":"Nope","arguments":[]})") + RS);
  reply = c.read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(single_record(*reply).at("error"), "Method 'Nope' does not exist.");
}

TEST_F(HubTest, ASlowClientIsClosedInsteadOfQueueingWithoutBound) {
  HubOptions o;
  o.send_queue = 4;
  o.handshake_timeout = 500ms;  // also the grace for a close that cannot be written
  o.delivery_timeout = 200ms;
  start(o);
  Client c;
  ASSERT_TRUE(c.connect(port(), token("slow")));
  ASSERT_TRUE(c.handshake());
  // The client stops reading; big messages fill the socket buffers, then the queue.
  const std::string big(256 * 1024, 'x');
  std::vector<std::future<bool>> sent;
  for (int i = 0; i < 100; ++i)
    sent.push_back(asio::co_spawn(io_, hub_->notify(note("slow", big)), asio::use_future));
  int delivered = 0;
  for (auto& f : sent) delivered += f.get() ? 1 : 0;
  EXPECT_LT(delivered, 100);
  EXPECT_TRUE(connections_become(0));
  EXPECT_NE(registry_.render().find("comms_hub_closed_total{reason=\"slow\"} 1"), std::string::npos)
      << registry_.render();
}

TEST_F(HubTest, StopSendsCloseWithAllowReconnect) {
  start();
  Client c;
  ASSERT_TRUE(c.connect(port(), token("u-1")));
  ASSERT_TRUE(c.handshake());
  auto stopped = asio::co_spawn(io_, hub_->stop(2s), asio::use_future);
  auto msg = c.read();
  ASSERT_TRUE(msg);
  EXPECT_EQ(single_record(*msg),
            boost::json::parse(R"({"type":7,"error":"Server is shutting down.","allowReconnect":true})"));
  EXPECT_FALSE(c.read());
  EXPECT_EQ(c.error(), websocket::error::closed);
  EXPECT_EQ(c.ws().reason().code, websocket::close_code::going_away);
  stopped.get();
  EXPECT_EQ(hub_->connections(), 0u);
}

TEST_F(HubTest, PingsAnIdleClientAndDropsASilentOne) {
  HubOptions o;
  o.keepalive = 100ms;
  o.client_timeout = 600ms;
  start(o);
  Client c;
  ASSERT_TRUE(c.connect(port(), token("u-1")));
  ASSERT_TRUE(c.handshake());
  auto msg = c.read(2s);
  ASSERT_TRUE(msg);
  EXPECT_EQ(*msg, ping_record());
  // Say nothing: the server gives up after client_timeout, with a Close.
  std::optional<std::string> last;
  while (auto m = c.read(3s)) last = m;
  ASSERT_TRUE(last);
  EXPECT_EQ(single_record(*last).at("type"), 7);
  EXPECT_EQ(single_record(*last).at("allowReconnect"), true);
  EXPECT_TRUE(connections_become(0));
}

TEST_F(HubTest, MalformedInputClosesTheConnectionAndTheHubKeepsServing) {
  start();
  {
    Client c;
    ASSERT_TRUE(c.connect(port(), token("u-1")));
    c.send(std::string(R"({"protocol":"messagepack","version":1})") + RS);
    auto msg = c.read();
    ASSERT_TRUE(msg);
    EXPECT_TRUE(single_record(*msg).as_object().contains("error"));
    EXPECT_FALSE(c.read());
  }
  {
    Client c;
    ASSERT_TRUE(c.connect(port(), token("u-1")));
    ASSERT_TRUE(c.handshake());
    c.send(std::string("{not json") + RS);
    auto msg = c.read();
    ASSERT_TRUE(msg);
    EXPECT_EQ(single_record(*msg).at("type"), 7);
    EXPECT_FALSE(single_record(*msg).as_object().contains("allowReconnect"));
    EXPECT_FALSE(c.read());
  }
  EXPECT_TRUE(connections_become(0));
  Client ok;
  ASSERT_TRUE(ok.connect(port(), token("u-1")));
  EXPECT_EQ(ok.handshake(), std::string("{}") + RS);
}

TEST_F(HubTest, UpgradeWithoutATokenIsRefused) {
  start();
  Client c;
  EXPECT_FALSE(c.connect(port(), ""));
}

}  // namespace
}  // namespace comms::hub
