// Test helpers for the http module: a Server on 127.0.0.1:0 driven by its own io_context threads,
// and a small blocking Beast client.
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "http/router.h"
#include "http/server.h"

namespace comms::http::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

inline HttpOptions quiet_options() {
  HttpOptions o;
  o.listen = "127.0.0.1:0";
  o.access_log = false;
  o.rate_limit.enabled = false;
  return o;
}

class TestServer {
 public:
  explicit TestServer(HttpOptions o, Router r, std::function<void(Server&)> setup = {})
      : work_(asio::make_work_guard(ioc_)) {
    server_ = std::make_unique<Server>(ioc_, std::move(o), std::move(r), registry_);
    if (setup) setup(*server_);
    server_->start();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  ~TestServer() {
    if (!stopped_) stop(std::chrono::milliseconds(500));
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
  }
  std::future<bool> stop_async(std::chrono::milliseconds grace) {
    stopped_ = true;
    return asio::co_spawn(ioc_, server_->stop(grace), asio::use_future);
  }
  bool stop(std::chrono::milliseconds grace) { return stop_async(grace).get(); }

  std::uint16_t port() const { return server_->port(); }
  metrics::Registry& registry() { return registry_; }
  asio::io_context& ioc() { return ioc_; }

 private:
  metrics::Registry registry_;  // outlives ioc_, whose queued coroutines may still touch it
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<Server> server_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool keep_alive = false;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has(const std::string& lower_name) const { return headers.count(lower_name) != 0; }
  boost::json::value json() const { return boost::json::parse(body); }
  std::string error_code() const {
    auto v = json();
    return std::string(v.at("error").at("code").as_string());
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One blocking connection; several requests may go over it (keep-alive).
class Client {
 public:
  explicit Client(std::uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  Reply send(const std::string& method, const std::string& target, const Headers& headers = {},
             const std::string& body = {}) {
    bhttp::request<bhttp::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.insert(k, v);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(socket_, req);
    return read();
  }

  Reply read() {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    bhttp::read(socket_, buffer_, parser);
    const auto& res = parser.get();
    Reply r;
    r.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      r.headers[name] = std::string(f.value());
    }
    r.body = res.body();
    r.keep_alive = res.keep_alive();
    return r;
  }

  // True when the server closed the connection (a read hits EOF).
  bool closed_by_peer() {
    beast::error_code ec;
    char c;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

inline Reply request(std::uint16_t port, const std::string& method, const std::string& target,
                     const Headers& headers = {}, const std::string& body = {}) {
  Client c(port);
  return c.send(method, target, headers, body);
}

inline Handler text_handler(std::string body, int status = 200) {
  return [body = std::move(body), status](Request&) -> asio::awaitable<Response> {
    Response r;
    r.status = status;
    r.body = body;
    co_return r;
  };
}

}  // namespace comms::http::test
