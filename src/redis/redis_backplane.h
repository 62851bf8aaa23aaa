// hub::Backplane over Redis pub/sub (the scale-out sibling of the in-process backplane).
//
// Channels: "<prefix>hub:<group>" per group, subscribed while this instance has a member of it;
// "<prefix>hub-reply:<instance id>" for the answers to this instance's publishes.
// A message is "<origin id> <seq>\n<frame>"; an answer is "<seq> 1" or "<seq> 0".
//
// publish(): the frame goes to this instance's members directly (no Redis round trip, and still
// when Redis is down) and is PUBLISHed. PUBLISH returns how many instances received it, this one
// included when subscribed; each other instance delivers locally and answers on the origin's reply
// channel; this instance counts its own copy as a negative answer (it delivered directly). `done`
// is true on the first positive answer, local or remote, and false once the local delivery and
// every receiver answered negatively. The hub bounds the wait with its delivery timeout; entries
// still open after a minute are closed with false.
//
// When Redis is down, only this instance's members receive the frame; the failure is counted in
// comms_redis_errors_total{op="backplane"}.
//
// Thread-safety: as hub::Backplane. `redis` must outlive it; stop Redis before destroying it.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>

#include "hub/backplane.h"
#include "redis/redis.h"

namespace comms::redis {

class RedisBackplane final : public hub::Backplane,
                             public std::enable_shared_from_this<RedisBackplane> {
 public:
  explicit RedisBackplane(Redis& redis);

  void start(Deliver deliver) override;
  void subscribe(const std::string& group) override;
  void unsubscribe(const std::string& group) override;
  void publish(const std::string& group, hub::Frame frame, hub::DeliveredCallback done) override;
  void stop() override;

 private:
  struct Pending {
    hub::DeliveredCallback done;
    std::chrono::steady_clock::time_point created;
    bool local_answered = false;  // the local delivery reported (negatively; positive completes)
    long long receivers = -1;     // PUBLISH's answer; -1 until it arrives
    long long negatives = 0;      // receivers that answered "not delivered"
  };
  enum class Answer { positive, negative, local_negative, receivers };
  // Records one answer for `seq`; calls its `done` when the outcome is known.
  void answer(std::uint64_t seq, Answer kind, long long receivers = 0);
  void on_group_message(std::string_view channel, std::string_view message);
  void on_reply(std::string_view message);
  void expire_old();
  Deliver deliver_copy();
  std::string group_channel(const std::string& group) const { return redis_.prefix() + "hub:" + group; }
  std::string reply_channel(std::string_view instance) const {
    return redis_.prefix() + "hub-reply:" + std::string(instance);
  }

  Redis& redis_;
  std::atomic<std::uint64_t> next_seq_{1};
  std::mutex mu_;
  Deliver deliver_;                           // guarded by mu_; empty before start() and after stop()
  std::map<std::uint64_t, Pending> pending_;  // guarded by mu_
  std::chrono::steady_clock::time_point last_expiry_;  // guarded by mu_
};

}  // namespace comms::redis
