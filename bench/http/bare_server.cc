// The reference for HTTP benchmarks: the least a Beast coroutine server can do per request, on the
// same setup as comms_http (one io_context on N threads, a strand and a coroutine per connection,
// tcp_stream timeouts, string bodies, keep-alive). Every request gets the same 202 JSON answer.
//
//   bench_bare_server 127.0.0.1:8081 2
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kBody =
    R"({"notificationId":"6f1c2a7e-0b7d-4a55-9d1e-3f1f2a9c8b10","status":"Pending"})";

asio::awaitable<void> session(beast::tcp_stream stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1024 * 1024);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec) break;
    const auto& req = parser.get();
    http::response<http::string_body> res{http::status::accepted, req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = kBody;
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
    if (wec || !res.keep_alive()) break;
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> listen(asio::io_context& ioc, tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kTuple);
    if (ec) co_return;
    socket.set_option(tcp::no_delay(true), ec);
    beast::tcp_stream stream(std::move(socket));
    auto ex = stream.get_executor();
    asio::co_spawn(ex, session(std::move(stream)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string address = argc > 1 ? argv[1] : "127.0.0.1:8081";
  const int threads =
      argc > 2 ? std::max(1, std::atoi(argv[2])) : static_cast<int>(std::thread::hardware_concurrency());
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "usage: %s host:port [threads]\n", argv[0]);
    return 2;
  }
  asio::io_context ioc(threads);
  tcp::endpoint ep(asio::ip::make_address(address.substr(0, colon)),
                   static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
  tcp::acceptor acceptor(asio::make_strand(ioc));
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  std::printf("listening on %s:%u with %d threads\n", ep.address().to_string().c_str(),
              acceptor.local_endpoint().port(), threads);
  std::fflush(stdout);

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](auto, auto) { ioc.stop(); });
  asio::co_spawn(acceptor.get_executor(), listen(ioc, acceptor), asio::detached);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
}
