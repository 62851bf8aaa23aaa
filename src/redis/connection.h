// One blocking hiredis connection with connect and command timeouts. Used by one thread at a
// time (a Client worker or the Subscriber); not thread-safe.
//
// Why blocking: hiredis (Debian's 0.14) has no Asio adapter, and its async API would need an
// event-loop integration of its own. A handful of dedicated threads, each owning a blocking
// connection with tight timeouts (COMMS_REDIS_TIMEOUT_MS), keeps every Redis call off the I/O
// threads and bounds how long any caller can wait (docs/architecture.md, Departures).
#pragma once
#include <chrono>
#include <string>
#include <vector>

#include "redis/reply.h"
#include "redis/url.h"

struct redisContext;

namespace comms::redis {

class Connection {
 public:
  Connection(RedisUrl url, std::chrono::milliseconds timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, authenticates and selects the database unless connected. Returns "" on success,
  // otherwise the reason (the connection stays closed).
  std::string ensure();
  bool connected() const { return ctx_ != nullptr; }
  // True when the server closed this idle connection (a restart, an idle timeout): its socket is
  // readable with no reply pending. Cheap (one poll); lets a caller reconnect before using it.
  bool dropped() const;
  void close();

  // Sends every command (one pipeline) and reads one reply per command. An I/O error or a timeout
  // closes the connection and is returned as Result::error.
  Result run(const std::vector<Command>& commands);

  // For the subscriber's event loop: the socket, writing without waiting for replies, and reading
  // what has arrived. Each returns "" or the error (after which the connection is closed).
  int fd() const;
  std::string send(const Command& command);
  std::string read_available(std::vector<Reply>& out);

 private:
  std::string fail(const char* what);

  const RedisUrl url_;
  const std::chrono::milliseconds timeout_;
  redisContext* ctx_ = nullptr;
};

}  // namespace comms::redis
