// The pub/sub side: one connection on its own thread, subscribed to the channels that handlers
// are registered for. After a lost connection it reconnects (backoff 100 ms doubling to 2 s) and
// subscribes again to every channel; on_connected listeners then learn that messages published
// while it was away were missed. A connection that answers nothing (not even the PING sent every
// second when idle) for 3 s, or twice the timeout, counts as lost.
//
// Handlers and listeners run on the subscriber thread and must not block (they may submit Client
// jobs). A handler may still run once after unsubscribe() returns; stop() ends all calls.
// Thread-safety: every method may be called from any thread; subscribe/unsubscribe never block.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "redis/connection.h"
#include "redis/health.h"
#include "redis/url.h"

namespace comms::redis {

class Subscriber {
 public:
  using Handler = std::function<void(std::string_view channel, std::string_view message)>;

  Subscriber(RedisUrl url, std::chrono::milliseconds timeout, Health& health);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Starts the thread. Call once, after the first handlers are registered (or not: later ones
  // are subscribed as they come).
  void start();
  // Messages on `channel` go to `handler` (replacing an earlier one).
  void subscribe(std::string channel, Handler handler);
  void unsubscribe(const std::string& channel);
  // Called after every successful (re)connection, once the subscriptions are sent.
  void on_connected(std::function<void()> listener);
  // Idempotent; joins the thread.
  void stop();

 private:
  void run();
  void wake();
  bool stopping();
  // Brings `subscribed` (what the connection has) in line with handlers_ when they changed, or
  // always when `force`. Returns "" or the error.
  std::string sync(Connection& conn, std::set<std::string>& subscribed, bool force);
  void dispatch(const Reply& reply);

  const RedisUrl url_;
  const std::chrono::milliseconds timeout_;
  Health& health_;
  int wake_fd_ = -1;  // eventfd: subscribe/unsubscribe/stop interrupt the thread's poll
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Handler>, std::less<>> handlers_;  // guarded by mu_
  std::vector<std::function<void()>> on_connected_;                              // guarded by mu_
  bool stopping_ = false;                                                        // guarded by mu_
  bool dirty_ = false;                                                           // guarded by mu_
  std::thread thread_;
};

}  // namespace comms::redis
