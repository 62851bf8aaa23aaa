// A throwaway redis-server for the redis module's tests: a free port, no persistence, killed by
// the destructor. Tests skip when redis-server is not installed (scripts/setup-test-deps.sh).
#pragma once
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "redis/connection.h"

namespace comms::redis::testing {

inline int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

class RedisServer {
 public:
  static bool available() { return ::access("/usr/bin/redis-server", X_OK) == 0; }

  RedisServer() : port_(free_port()) { start(); }
  ~RedisServer() { stop(); }

  void start() {
    const std::string port = std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/usr/bin/redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
              "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning", "--logfile", "/dev/null",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      Connection c(url(), std::chrono::milliseconds(200));
      if (c.ensure().empty() && c.run({{"PING"}}).ok()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // SIGSTOP/SIGCONT: Redis keeps its data and its connections but answers nothing (slow, not down).
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  RedisUrl url() const {
    RedisUrl u;
    u.host = "127.0.0.1";
    u.port = port_;
    return u;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

}  // namespace comms::redis::testing
