#include "redis/subscriber.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "redis/connection.h"
#include "common/thread_name.h"

namespace comms::redis {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
constexpr milliseconds kMinBackoff{100};
constexpr milliseconds kMaxBackoff{2000};
constexpr milliseconds kPingEvery{1000};
constexpr milliseconds kTick{250};
constexpr std::size_t kChannelsPerCommand = 500;

void drain(int fd) {
  std::uint64_t n = 0;
  [[maybe_unused]] auto r = ::read(fd, &n, sizeof n);
}

// Sends `verb` for `channels` in chunks. Returns "" or the error.
std::string send_all(Connection& conn, const char* verb, const std::vector<std::string>& channels) {
  for (std::size_t i = 0; i < channels.size(); i += kChannelsPerCommand) {
    Command c{verb};
    for (std::size_t j = i; j < std::min(channels.size(), i + kChannelsPerCommand); ++j) c.push_back(channels[j]);
    if (std::string e = conn.send(c); !e.empty()) return e;
  }
  return "";
}

}  // namespace

Subscriber::Subscriber(RedisUrl url, milliseconds timeout, Health& health)
    : url_(std::move(url)), timeout_(timeout), health_(health), wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Subscriber::~Subscriber() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Subscriber::start() { thread_ = named_thread("redis-sub", [this] { run(); }); }

void Subscriber::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void Subscriber::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
}

void Subscriber::subscribe(std::string channel, Handler handler) {
  {
    std::lock_guard lock(mu_);
    handlers_[std::move(channel)] = std::make_shared<const Handler>(std::move(handler));
    dirty_ = true;
  }
  wake();
}

void Subscriber::unsubscribe(const std::string& channel) {
  {
    std::lock_guard lock(mu_);
    if (handlers_.erase(channel) == 0) return;
    dirty_ = true;
  }
  wake();
}

void Subscriber::on_connected(std::function<void()> listener) {
  std::lock_guard lock(mu_);
  on_connected_.push_back(std::move(listener));
}

std::string Subscriber::sync(Connection& conn, std::set<std::string>& subscribed, bool force) {
  std::vector<std::string> add, remove;
  {
    std::lock_guard lock(mu_);
    if (!dirty_ && !force) return "";
    dirty_ = false;
    for (const auto& [channel, h] : handlers_)
      if (!subscribed.contains(channel)) add.push_back(channel);
    for (const auto& channel : subscribed)
      if (!handlers_.contains(channel)) remove.push_back(channel);
  }
  if (std::string e = send_all(conn, "SUBSCRIBE", add); !e.empty()) return e;
  if (std::string e = send_all(conn, "UNSUBSCRIBE", remove); !e.empty()) return e;
  subscribed.insert(add.begin(), add.end());
  for (const auto& c : remove) subscribed.erase(c);
  return "";
}

void Subscriber::dispatch(const Reply& reply) {
  if (reply.type != Reply::Type::array || reply.elements.size() != 3 || reply.elements[0].str != "message") return;
  std::shared_ptr<const Handler> handler;
  {
    std::lock_guard lock(mu_);
    if (auto it = handlers_.find(reply.elements[1].str); it != handlers_.end()) handler = it->second;
  }
  if (handler) (*handler)(reply.elements[1].str, reply.elements[2].str);
}

bool Subscriber::stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

void Subscriber::run() {
  Connection conn(url_, timeout_);
  std::set<std::string> subscribed;  // what this connection has subscribed to
  milliseconds backoff = kMinBackoff;
  const milliseconds dead_after = std::max(milliseconds(3000), 2 * timeout_);
  auto last_read = Clock::now();
  bool ping_sent = false;
  auto lost = [&](const std::string& e) {
    health_.failed("subscriber", e);
    conn.close();
  };

  while (!stopping()) {
    if (!conn.connected()) {
      subscribed.clear();
      if (std::string e = conn.ensure(); !e.empty()) {
        health_.failed("subscriber", e);
        pollfd p{wake_fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(backoff.count())) > 0) drain(wake_fd_);
        backoff = std::min(backoff * 2, kMaxBackoff);
        continue;
      }
      backoff = kMinBackoff;
      if (std::string e = sync(conn, subscribed, true); !e.empty()) {
        lost(e);
        continue;
      }
      health_.ok();
      last_read = Clock::now();
      ping_sent = false;
      std::vector<std::function<void()>> listeners;
      {
        std::lock_guard lock(mu_);
        listeners = on_connected_;
      }
      for (auto& l : listeners) l();
    }
    if (std::string e = sync(conn, subscribed, false); !e.empty()) {
      lost(e);
      continue;
    }
    pollfd fds[2] = {{conn.fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(kTick.count())) > 0) {
      if (fds[1].revents) drain(wake_fd_);
      if (fds[0].revents) {
        std::vector<Reply> replies;
        if (std::string e = conn.read_available(replies); !e.empty()) {
          lost(e);
          continue;
        }
        last_read = Clock::now();
        ping_sent = false;
        health_.ok();  // the idle PING's answer tells that Redis is back when no command runs
        for (const Reply& r : replies) dispatch(r);
      }
    }
    const auto idle = Clock::now() - last_read;
    if (idle > dead_after) {
      lost("no answer to PING");
    } else if (idle > kPingEvery && !ping_sent) {
      if (std::string e = conn.send({"PING"}); !e.empty()) {
        lost(e);
      } else {
        ping_sent = true;
      }
    }
  }
}

}  // namespace comms::redis
