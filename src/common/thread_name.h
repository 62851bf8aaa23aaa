// Names the calling thread, as `top -H`, `ps -L`, perf and gdb show it (Linux keeps 15 bytes;
// longer names are cut). The service's threads: io, store-writer, store-reader, amqp-consume,
// amqp-publish, redis, redis-sub, bulkhead-<channel>.
#pragma once
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace comms {

void name_this_thread(std::string_view name);

// A std::thread that names itself `name`, then runs f().
template <class F>
std::thread named_thread(std::string name, F f) {
  return std::thread([name = std::move(name), f = std::move(f)]() mutable {
    name_this_thread(name);
    f();
  });
}

}  // namespace comms
