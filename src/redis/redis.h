// One process's connection to Redis: the shared Health, the command Client and the pub/sub
// Subscriber, with the key prefix and this instance's id. app/ builds it when COMMS_REDIS is set
// and hands it to the Redis-backed seams (HybridCache, RedisBackplane, RedisBucketStore).
//
// Lifecycle: construct (workers connect at once; nothing blocks the caller), register users,
// start() (the subscriber thread), and stop() before the io_context is destroyed and before its
// users are (idempotent; also the destructor). The service starts even when Redis is down.
// Thread-safety: the accessors are safe from any thread; see each component.
#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "redis/client.h"
#include "redis/health.h"
#include "redis/subscriber.h"
#include "redis/url.h"

namespace comms::redis {

struct RedisOptions {
  RedisUrl url;
  std::string prefix = "comms:";           // every key and channel starts with it
  std::chrono::milliseconds timeout{100};  // connect, each command, queue wait
  int connections = 4;                     // command connections (worker threads)
};

class Redis {
 public:
  Redis(RedisOptions options, metrics::Registry& registry);
  ~Redis();

  void start();
  void stop();

  Health& health() { return health_; }
  Client& client() { return client_; }
  Subscriber& subscriber() { return subscriber_; }
  const std::string& prefix() const { return options_.prefix; }
  // A fresh UUID per process: tells this instance's own pub/sub messages from the others'.
  const std::string& instance_id() const { return instance_id_; }

 private:
  const RedisOptions options_;
  const std::string instance_id_;
  Health health_;
  Client client_;
  Subscriber subscriber_;
};

// The SCAN MATCH pattern for the cache glob `glob` (cache/glob.h: '*', '?', '\' escapes) under
// `prefix`: the prefix's glob characters are escaped, and so are '[' and ']', which Redis would
// read as a character class but the cache's glob takes literally.
std::string scan_pattern(std::string_view prefix, std::string_view glob);

}  // namespace comms::redis
