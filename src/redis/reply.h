// Values that cross the Redis client's threads: commands, replies and the outcome of a job.
// Plain copies of what hiredis returned, so nothing of hiredis leaks out of redis/connection.cc.
#pragma once
#include <string>
#include <vector>

namespace comms::redis {

// One command as its arguments, e.g. {"SET", key, value, "PX", "5000"}. Binary-safe.
using Command = std::vector<std::string>;

struct Reply {
  enum class Type { nil, string, integer, status, error, array };
  Type type = Type::nil;
  std::string str;  // string, status and error replies
  long long integer = 0;
  std::vector<Reply> elements;  // array replies

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
};

// The outcome of one job. `error` empty: Redis answered (each reply may still be a Redis error
// reply, such as NOSCRIPT). Otherwise Redis was not reached, timed out or dropped the connection,
// and `error` says so (never with credentials in it).
struct Result {
  std::string error;
  std::vector<Reply> replies;

  bool ok() const { return error.empty(); }
  static Result failure(std::string e) { return {std::move(e), {}}; }
};

}  // namespace comms::redis
