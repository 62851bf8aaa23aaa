#include "http/gate.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace comms::http {

boost::asio::awaitable<bool> Gate::close(std::chrono::milliseconds timeout) {
  closed_.store(true);
  // Shutdown happens once per process: a short poll is simpler and safer than waking a timer from
  // whichever thread leaves last.
  constexpr std::chrono::milliseconds kPoll{5};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  while (count_.load() != 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) co_return false;
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(kPoll, deadline - now));
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  co_return true;
}

}  // namespace comms::http
