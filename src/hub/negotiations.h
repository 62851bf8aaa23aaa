// Connection tokens handed out by negotiate and claimed by the WebSocket that follows
// (aspnetcore specs TransportProtocols.md). A token is bound to the subject that negotiated it,
// claimed by at most one socket at a time, and forgotten when its socket closes, or after the TTL
// when no socket came. Memory is bounded: at most `max_pending` unclaimed tokens exist.
//
// Thread-safe.
#pragma once
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace comms::hub {

class Negotiations {
 public:
  using Clock = std::chrono::steady_clock;

  Negotiations(std::chrono::milliseconds ttl, std::size_t max_pending)
      : ttl_(ttl), max_pending_(max_pending) {}

  struct Issued {
    std::string connection_id;
    std::string connection_token;
  };
  // A new token for `sub`. nullopt when max_pending unclaimed tokens are already waiting.
  std::optional<Issued> issue(const std::string& sub, Clock::time_point now = Clock::now());

  enum class Claim { ok, unknown, in_use };
  // Binds `token` to a socket. unknown: never issued, expired, released, or issued to another subject.
  Claim claim(const std::string& token, const std::string& sub, Clock::time_point now = Clock::now());
  // The socket holding `token` closed; the token is gone.
  void release(const std::string& token);
  // Forgets unclaimed tokens past their TTL.
  void expire(Clock::time_point now = Clock::now());

  std::size_t pending() const;

 private:
  struct Entry {
    std::string sub;
    Clock::time_point expires;
    bool claimed = false;
  };
  void expire_locked(Clock::time_point now);

  const std::chrono::milliseconds ttl_;
  const std::size_t max_pending_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> tokens_;                // guarded by mu_
  std::deque<std::pair<Clock::time_point, std::string>> order_;  // guarded by mu_; issue order = expiry order
  std::size_t pending_ = 0;                                      // guarded by mu_; unclaimed tokens
};

// 128 random bits, base64url without padding (22 characters).
std::string random_id();

}  // namespace comms::hub
