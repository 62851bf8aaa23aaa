// A gate for graceful shutdown, after Seastar's: work enters before it starts and leaves when done;
// close() refuses new entries and waits until the work inside has left. Thread-safe.
#pragma once
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>

namespace comms::http {

class Gate {
 public:
  // False once close() was called; otherwise the caller must leave() exactly once.
  bool try_enter() {
    count_.fetch_add(1);
    if (closed_.load()) {
      leave();
      return false;
    }
    return true;
  }
  void leave() { count_.fetch_sub(1); }
  std::size_t count() const { return count_.load(); }
  bool closed() const { return closed_.load(); }

  // Closes the gate, then completes when nothing is inside (true) or after `timeout` (false).
  boost::asio::awaitable<bool> close(std::chrono::milliseconds timeout);

  // Leaves on destruction; for work that entered successfully.
  class Holder {
   public:
    explicit Holder(Gate& g) : g_(g) {}
    ~Holder() { g_.leave(); }
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;

   private:
    Gate& g_;
  };

 private:
  std::atomic<std::size_t> count_{0};
  std::atomic<bool> closed_{false};
};

}  // namespace comms::http
