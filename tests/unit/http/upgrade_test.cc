#include "http/upgrade.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>

#include "http/jwt.h"
#include "test_support.h"

namespace comms::http {
namespace {

using namespace std::chrono_literals;
namespace websocket = boost::beast::websocket;
using test::request;
using test::TestServer;

constexpr const char* kSecret = "upgrade-test-secret";

struct Seen {
  std::mutex mu;
  std::string sub;
  std::string request_id;
};

boost::asio::awaitable<void> echo(websocket::stream<boost::beast::tcp_stream> ws,
                                  boost::beast::http::request<boost::beast::http::string_body> req) {
  co_await ws.async_accept(req, boost::asio::use_awaitable);
  boost::beast::flat_buffer buf;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buf, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
    ws.text(ws.got_text());
    co_await ws.async_write(buf.data(), boost::asio::use_awaitable);
    buf.consume(buf.size());
  }
}

std::function<void(Server&)> install_echo(std::shared_ptr<Seen> seen, Access access = Access::anyone()) {
  return [seen, access](Server& s) {
    s.set_upgrade_handler(
        "/hubs/",
        [seen](boost::beast::tcp_stream&& stream,
               boost::beast::http::request<boost::beast::http::string_body>&& req, Request&& parsed) {
          {
            std::lock_guard lock(seen->mu);
            seen->sub = parsed.principal.sub;
            seen->request_id = parsed.request_id;
          }
          websocket::stream<boost::beast::tcp_stream> ws(std::move(stream));
          auto ex = ws.get_executor();
          boost::asio::co_spawn(ex, echo(std::move(ws), std::move(req)), boost::asio::detached);
        },
        access);
  };
}

Router hub_router() {
  Router r;
  r.add("POST", "/hubs/notifications/negotiate", Access::roles_of({Role::customer}),
        test::text_handler("{}"));
  return r;
}

HttpOptions options() {
  auto o = test::quiet_options();
  o.auth.hs256_secret = kSecret;
  return o;
}

std::string ws_roundtrip(std::uint16_t port, const std::string& target, const std::string& text) {
  boost::asio::io_context ioc;
  websocket::stream<boost::asio::ip::tcp::socket> ws(ioc);
  ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
  ws.handshake("127.0.0.1", target);
  ws.write(boost::asio::buffer(text));
  boost::beast::flat_buffer buf;
  ws.read(buf);
  ws.close(websocket::close_code::normal);
  return boost::beast::buffers_to_string(buf.data());
}

TEST(Upgrade, WebSocketEchoThroughTheSeamWithQueryToken) {
  auto seen = std::make_shared<Seen>();
  TestServer s(options(), hub_router(), install_echo(seen));
  const std::string token = mint_hs256(kSecret, "cust-77", Role::customer, std::chrono::hours(1));
  EXPECT_EQ(ws_roundtrip(s.port(), "/hubs/notifications?id=abc&access_token=" + token, "hello hub"),
            "hello hub");
  std::lock_guard lock(seen->mu);
  EXPECT_EQ(seen->sub, "cust-77");
  EXPECT_EQ(seen->request_id.size(), 36u);
}

TEST(Upgrade, AnonymousUpgradeAllowedWhenAccessIsOptional) {
  auto seen = std::make_shared<Seen>();
  TestServer s(options(), hub_router(), install_echo(seen));
  EXPECT_EQ(ws_roundtrip(s.port(), "/hubs/notifications", "x"), "x");
  std::lock_guard lock(seen->mu);
  EXPECT_EQ(seen->sub, "");
}

TEST(Upgrade, InvalidTokenIsRefusedBeforeHandOver) {
  auto seen = std::make_shared<Seen>();
  TestServer s(options(), hub_router(), install_echo(seen, Access::roles_of({Role::customer})));
  EXPECT_THROW(ws_roundtrip(s.port(), "/hubs/notifications?access_token=nope", "x"),
               boost::system::system_error);
  EXPECT_THROW(ws_roundtrip(s.port(), "/hubs/notifications", "x"), boost::system::system_error);
  // A plain request on the upgrade path shows the middleware's answer.
  test::Client c(s.port());
  const auto r = c.send("GET", "/hubs/notifications",
                        {{"Upgrade", "websocket"},
                         {"Connection", "Upgrade"},
                         {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                         {"Sec-WebSocket-Version", "13"}});
  EXPECT_EQ(r.status, 401);
  std::lock_guard lock(seen->mu);
  EXPECT_EQ(seen->sub, "");
}

TEST(Upgrade, NormalRoutesShareThePrefix) {
  auto seen = std::make_shared<Seen>();
  TestServer s(options(), hub_router(), install_echo(seen));
  const std::string token = mint_hs256(kSecret, "cust-1", Role::customer, std::chrono::hours(1));
  EXPECT_EQ(request(s.port(), "POST", "/hubs/notifications/negotiate?access_token=" + token).status, 200);
  EXPECT_EQ(request(s.port(), "GET", "/hubs/notifications").status, 404);
}

}  // namespace
}  // namespace comms::http
