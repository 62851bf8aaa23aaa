// Names the calling thread, as `top -H`, `ps -L`, perf and gdb show it (Linux keeps 15 bytes;
// longer names are cut). The service's threads: io, store-writer, store-reader, amqp-consume,
// amqp-publish, redis, redis-sub, bulkhead-<channel>.
#pragma once
#include <string_view>

namespace comms {

void name_this_thread(std::string_view name);

}  // namespace comms
