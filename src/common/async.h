// Bridges callback-style asynchronous APIs (such as store::Store's
// submit_write/submit_read, whose Done callback runs on a store thread) into
// C++20 coroutines. The coroutine resumes on its own executor, never on the
// thread that invoked the callback.
#pragma once
#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>

namespace comms {

using Callback = std::function<void(std::exception_ptr)>;

// `submit(cb)` must start the operation and arrange for `cb` to be called once,
// from any thread. The returned awaitable completes when it is called, and
// rethrows the exception it was given, if any.
template <class Submit>
boost::asio::awaitable<void> await_callback(Submit submit) {
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(std::exception_ptr)>(
      [submit = std::move(submit)](auto handler) mutable {
        using H = decltype(handler);
        auto ex = boost::asio::get_associated_executor(handler);
        auto state = std::make_shared<std::pair<H, boost::asio::executor_work_guard<decltype(ex)>>>(
            std::move(handler), boost::asio::make_work_guard(ex));
        submit(Callback([state](std::exception_ptr e) {
          auto exec = state->second.get_executor();
          boost::asio::post(exec, [state, e]() mutable {
            std::move(state->first)(e);
            state->second.reset();
          });
        }));
      },
      boost::asio::use_awaitable);
}

}  // namespace comms
