#include "http/server.h"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>

#include "test_support.h"

namespace comms::http {
namespace {

using namespace std::chrono_literals;
using test::Client;
using test::request;
using test::TestServer;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

Handler sleep_then(std::chrono::milliseconds d, std::string body) {
  return [d, body](Request&) -> boost::asio::awaitable<Response> {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
    co_await t.async_wait(boost::asio::use_awaitable);
    Response r;
    r.body = body;
    co_return r;
  };
}

Router basic_router() {
  Router r;
  r.add("GET", "/health", Access::anyone(), test::text_handler("ok"));
  r.add("POST", "/echo/{name}", Access::anyone(), [](Request& q) -> boost::asio::awaitable<Response> {
    boost::json::object o;
    o["name"] = q.param("name");
    o["body"] = q.body;
    o["page"] = q.query_param("page").value_or("");
    o["path"] = q.path;
    co_return Response::json(200, o);
  });
  r.add("GET", "/boom", Access::anyone(), [](Request&) -> boost::asio::awaitable<Response> {
    throw std::runtime_error("secret internals");
    co_return Response{};
  });
  r.add("GET", "/slow", Access::anyone(), sleep_then(400ms, "slow done"));
  r.add("GET", "/very-slow", Access::anyone(), sleep_then(3000ms, "too late"));
  return r;
}

TEST(Server, BindsAnEphemeralPortAndAnswers) {
  TestServer s(test::quiet_options(), basic_router());
  ASSERT_NE(s.port(), 0);
  const auto r = request(s.port(), "GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
}

TEST(Server, PassesBodyParamsAndDecodedQuery) {
  TestServer s(test::quiet_options(), basic_router());
  const auto r = request(s.port(), "POST", "/echo/mwansa?page=2&x=a%20b", {}, "hello");
  ASSERT_EQ(r.status, 200);
  const auto j = r.json();
  EXPECT_EQ(j.at("name"), "mwansa");
  EXPECT_EQ(j.at("body"), "hello");
  EXPECT_EQ(j.at("page"), "2");
  EXPECT_EQ(j.at("path"), "/echo/mwansa");
  EXPECT_EQ(r.header("content-type"), "application/json");
}

TEST(Server, UnknownRouteIs404Json) {
  TestServer s(test::quiet_options(), basic_router());
  const auto r = request(s.port(), "GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error_code(), "not_found");
  EXPECT_EQ(r.json().at("error").at("requestId").as_string(), r.header("x-request-id"));
}

TEST(Server, WrongMethodIs405WithAllow) {
  TestServer s(test::quiet_options(), basic_router());
  const auto r = request(s.port(), "DELETE", "/health");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.error_code(), "method_not_allowed");
  EXPECT_EQ(r.header("allow"), "GET");
}

TEST(Server, HandlerExceptionIsGeneric500) {
  TestServer s(test::quiet_options(), basic_router());
  const auto r = request(s.port(), "GET", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.error_code(), "internal_error");
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_EQ(request(s.port(), "GET", "/health").status, 200);
}

TEST(Server, BodyOverLimitIs413) {
  auto o = test::quiet_options();
  o.body_limit = 1000;
  TestServer s(o, basic_router());
  const auto r = request(s.port(), "POST", "/echo/x", {{"X-Request-Id", "big-1"}}, std::string(2000, 'a'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.error_code(), "payload_too_large");
  EXPECT_EQ(r.header("x-request-id"), "big-1");
  EXPECT_EQ(request(s.port(), "POST", "/echo/x", {}, std::string(1000, 'a')).status, 200);
}

TEST(Server, ChunkedBodyOverLimitIs413) {
  auto o = test::quiet_options();
  o.body_limit = 1000;
  TestServer s(o, basic_router());
  Client c(s.port());
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/echo/x", 11};
  req.set(bhttp::field::host, "x");
  req.chunked(true);
  req.body() = std::string(3000, 'b');
  bhttp::write(c.socket(), req);
  EXPECT_EQ(c.read().status, 413);
}

TEST(Server, ExpectContinueGets100BeforeTheBody) {
  TestServer s(test::quiet_options(), basic_router());
  Client c(s.port());
  asio::write(c.socket(),
              asio::buffer(std::string(
                  "POST /echo/e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")));
  std::string interim(25, '\0');
  asio::read(c.socket(), asio::buffer(interim));
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  asio::write(c.socket(), asio::buffer(std::string("hello")));
  const auto r = c.read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json().at("body"), "hello");
}

TEST(Server, MalformedRequestIs400) {
  TestServer s(test::quiet_options(), basic_router());
  Client c(s.port());
  asio::write(c.socket(), asio::buffer(std::string("GET /health HTTP/1.1\r\nHost x\r\n\r\n")));
  EXPECT_EQ(c.read().status, 400);
}

TEST(Server, KeepAliveServesManyRequestsOnOneConnection) {
  TestServer s(test::quiet_options(), basic_router());
  Client c(s.port());
  for (int i = 0; i < 5; ++i) {
    const auto r = c.send("POST", "/echo/n" + std::to_string(i), {}, "b");
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.json().at("name").as_string(), "n" + std::to_string(i));
  }
  EXPECT_EQ(c.send("GET", "/nope").status, 404);
  EXPECT_EQ(c.send("GET", "/health").status, 200);
}

TEST(Server, ConnectionCloseIsHonoured) {
  TestServer s(test::quiet_options(), basic_router());
  Client c(s.port());
  const auto r = c.send("GET", "/health", {{"Connection", "close"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(Server, IdleKeepAliveConnectionTimesOut) {
  auto o = test::quiet_options();
  o.idle_timeout = 200ms;
  TestServer s(o, basic_router());
  Client c(s.port());
  EXPECT_EQ(c.send("GET", "/health").status, 200);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(Server, GracefulStopFinishesInFlightAndClosesIdle) {
  TestServer s(test::quiet_options(), basic_router());
  Client idle(s.port());
  ASSERT_EQ(idle.send("GET", "/health").status, 200);

  auto slow = std::async(std::launch::async, [&] { return request(s.port(), "GET", "/slow"); });
  std::this_thread::sleep_for(100ms);  // the slow request is now inside its handler
  auto stopped = s.stop_async(2s);

  const auto r = slow.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow done");
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(stopped.get());
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_THROW(request(s.port(), "GET", "/health"), boost::system::system_error);
}

TEST(Server, StopGivesUpAfterGrace) {
  TestServer s(test::quiet_options(), basic_router());
  auto slow = std::async(std::launch::async, [&] {
    try {
      return request(s.port(), "GET", "/very-slow").status;
    } catch (const std::exception&) {
      return -1;
    }
  });
  std::this_thread::sleep_for(100ms);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(s.stop(200ms));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  EXPECT_EQ(slow.get(), -1);  // the connection was closed under it
}

TEST(Server, RejectsMalformedListenAddress) {
  asio::io_context ioc;
  metrics::Registry reg;
  auto o = test::quiet_options();
  o.listen = "no-port";
  Server s(ioc, o, Router{}, reg);
  EXPECT_THROW(s.start(), std::invalid_argument);
}

}  // namespace
}  // namespace comms::http
