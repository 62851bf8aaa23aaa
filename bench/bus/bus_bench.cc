// bench_bus: consume throughput of the RabbitMQ bus against a plain rabbitmq-c
// no-op consumer on the same broker (the broker's own limit). Driven by
// bench/bus/run.py; each mode prints one JSON line.
//
//   bench_bus fill URL QUEUE COUNT NS TYPE    declare QUEUE, put COUNT MassTransit envelopes on it
//   bench_bus reference URL QUEUE COUNT PREFETCH ACK_EVERY
//                                             consume COUNT with basic.consume; ACK_EVERY 1: one basic.ack
//                                             per message (a plain consumer); N: one multiple-ack per N
//   bench_bus bus URL QUEUE COUNT PREFETCH NS TYPE THREADS [HANDLER_MS]
//                                             consume COUNT through RabbitMqBus (envelope decoded,
//                                             acks after the handler), THREADS I/O threads; the handler
//                                             is a no-op, or waits HANDLER_MS (a commit's latency)
//   bench_bus publish URL EXCHANGE COUNT NS TYPE [RATE [STAMPS]]
//                                             publish COUNT envelopes to EXCHANGE (persistent, with
//                                             confirms), as fast as possible or RATE per second; STAMPS:
//                                             a file of "eventId<TAB>publish time (ms since epoch)" lines
//                                             (bench/bus/e2e.py, the end-to-end run)
//
// Envelopes carry a LoanApplicationCreated payload, or a PaymentReceived one when TYPE is
// PaymentReceived; every envelope has its own messageId and eventId.
// Rates are measured from the first delivery to the COUNT-th.
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bus/make_bus.h"
#include "bus/masstransit.h"
#include "bus/rabbitmq/amqp_connection.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/metrics.h"

namespace {

using namespace comms;
using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;

amqp_bytes_t view(const std::string& s) {
  return amqp_bytes_t{s.size(), const_cast<char*>(s.data())};
}

// The payload of one event; `i` makes its business ids distinct (and, for PaymentReceived, its
// customer: every event is a cold preferences cache entry, as a day's payments are).
std::string sample_payload(const std::string& type, const std::string& event_id, int i) {
  const std::string n = std::to_string(i);
  if (type == "PaymentReceived")
    return R"({"eventId":")" + event_id + R"(","eventTimestamp":")" + format_iso8601(now_ms()) +
           R"(","paymentId":"P-)" + n + R"(","loanId":"L-)" + n + R"(","customerId":"C-)" + n +
           R"(","amount":1500.5,"currency":"ZMW","paymentDate":"2026-11-27T04:26:45Z","paymentMethod":"Mobile money",)"
           R"("receiptNumber":"R-)" + n + R"(","outstandingBalance":12000,"branchId":"LSK-01",)"
           R"("customerName":"Mwansa Banda","customerPhone":"+260971234567"})";
  return R"({"eventId":")" + event_id + R"(","eventTimestamp":"2026-11-27T04:26:45Z","applicationId":"A-)" + n +
         R"(","customerId":"C-1","requestedAmount":15000.5,"productType":"Salary Advance","branchId":"LSK-01",)"
         R"("customerName":"Mwansa Banda","customerPhone":"+260971234567","customerEmail":"mwansa@example.com"})";
}

bus::Envelope sample(const std::string& ns, const std::string& type, const std::string& event_id, int i) {
  bus::Envelope e;
  e.message_id = new_uuid();
  e.correlation_id = new_uuid();
  e.conversation_id = new_uuid();
  e.source_address = "rabbitmq://localhost/loan-origination";
  e.destination_address = "rabbitmq://localhost/" + ns + ":" + type;
  e.message_type = {bus::message_urn(ns, type)};
  e.message = sample_payload(type, event_id, i);
  e.sent_time = format_iso8601(now_ms());
  e.host_json = boost::json::serialize(bus::host_info());
  return e;
}

std::string sample_envelope(const std::string& ns, const std::string& type, int i) {
  return bus::encode_envelope(sample(ns, type, new_uuid(), i));
}

int fill(const std::string& url, const std::string& queue, int count, const std::string& ns,
         const std::string& type) {
  bus::rabbitmq::Connection c(bus::rabbitmq::ConnectionParams::parse(url), "bench-fill");
  c.open_channel(1);
  c.declare_queue(1, queue);
  amqp_confirm_select(c.get(), 1);
  c.check(amqp_get_rpc_reply(c.get()), "confirm.select");
  amqp_basic_properties_t p{};
  p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  p.content_type = amqp_cstring_bytes("application/vnd.masstransit+json");
  p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  std::size_t bytes = 0;
  std::uint64_t confirmed = 0;
  for (int i = 0; i < count; ++i) {
    const std::string body = sample_envelope(ns, type, i);
    bytes += body.size();
    c.check_status(amqp_basic_publish(c.get(), 1, amqp_empty_bytes, view(queue), 0, 0, &p, view(body)),
                   "publish");
    // Keep at most 1000 unconfirmed.
    while (static_cast<std::uint64_t>(i + 1) - confirmed > 1000 ||
           (i + 1 == count && confirmed < std::uint64_t(count))) {
      amqp_frame_t f;
      if (!c.next_frame(f)) {
        c.wait(-1, std::chrono::milliseconds(100));
        continue;
      }
      if (f.frame_type == AMQP_FRAME_METHOD && f.payload.method.id == AMQP_BASIC_ACK_METHOD)
        confirmed = std::max<std::uint64_t>(
            confirmed, static_cast<amqp_basic_ack_t*>(f.payload.method.decoded)->delivery_tag);
    }
  }
  std::printf("{\"filled\":%d,\"avg_bytes\":%zu}\n", count, bytes / std::max(count, 1));
  return 0;
}

int reference(const std::string& url, const std::string& queue, int count, int prefetch, int ack_every) {
  bus::rabbitmq::Connection c(bus::rabbitmq::ConnectionParams::parse(url), "bench-reference");
  c.open_channel(1);
  amqp_basic_qos(c.get(), 1, 0, static_cast<std::uint16_t>(prefetch), 0);
  c.check(amqp_get_rpc_reply(c.get()), "qos");
  amqp_basic_consume(c.get(), 1, view(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  c.check(amqp_get_rpc_reply(c.get()), "consume");
  Clock::time_point first;
  for (int n = 0; n < count;) {
    amqp_envelope_t env;
    amqp_maybe_release_buffers(c.get());
    const amqp_rpc_reply_t r = amqp_consume_message(c.get(), &env, nullptr, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) throw std::runtime_error("consume failed");
    if (n == 0) first = Clock::now();
    ++n;
    if (n % ack_every == 0 || n == count)
      c.check_status(amqp_basic_ack(c.get(), 1, env.delivery_tag, ack_every > 1), "ack");
    amqp_destroy_envelope(&env);
  }
  const double secs = std::chrono::duration<double>(Clock::now() - first).count();
  std::printf(
      "{\"consumer\":\"reference\",\"count\":%d,\"prefetch\":%d,\"ack_every\":%d,\"seconds\":%.3f,\"rate\":%."
      "0f}\n",
      count, prefetch, ack_every, secs, count / secs);
  return 0;
}

int through_bus(const std::string& url, const std::string& queue, int count, int prefetch,
                const std::string& ns, const std::string& type, int threads, int handler_ms) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  metrics::Registry registry;
  bus::BusOptions o;
  o.url = url;
  o.ns = ns;
  o.queue = queue;
  o.prefetch = prefetch;
  auto b = bus::make_bus(o, io, registry);
  std::atomic<int> handled{0};
  std::atomic<std::int64_t> first_ns{0}, last_ns{0};
  b->subscribe(type, [&](const bus::Envelope&) -> asio::awaitable<bus::HandleResult> {
    if (handler_ms > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(handler_ms));
      co_await t.async_wait(asio::use_awaitable);
    }
    const auto now = Clock::now().time_since_epoch().count();
    std::int64_t zero = 0;
    first_ns.compare_exchange_strong(zero, now);
    if (++handled == count) last_ns = now;
    co_return bus::HandleResult{};
  });
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  b->start();
  while (last_ns == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  asio::co_spawn(io, b->stop(std::chrono::seconds(10)), asio::use_future).get();
  work.reset();
  io.stop();
  for (auto& t : pool) t.join();
  const double secs = static_cast<double>(last_ns - first_ns) / 1e9;
  std::printf(
      "{\"consumer\":\"bus\",\"count\":%d,\"prefetch\":%d,\"threads\":%d,\"seconds\":%.3f,\"rate\":%.0f}\n",
      count, prefetch, threads, secs, count / secs);
  return 0;
}

// Publishes to an exchange as a MassTransit publisher does (routing key "", persistent,
// message_id set), with at most 1000 unconfirmed; paced at `rate` per second when > 0.
int publish(const std::string& url, const std::string& exchange, int count, const std::string& ns,
            const std::string& type, double rate, const std::string& stamps_path) {
  bus::rabbitmq::Connection c(bus::rabbitmq::ConnectionParams::parse(url), "bench-publish");
  c.open_channel(1);
  amqp_confirm_select(c.get(), 1);
  c.check(amqp_get_rpc_reply(c.get()), "confirm.select");
  std::FILE* stamps = stamps_path.empty() ? nullptr : std::fopen(stamps_path.c_str(), "w");
  if (!stamps_path.empty() && !stamps) throw std::runtime_error("cannot write " + stamps_path);
  std::uint64_t confirmed = 0;
  // Reads what the broker sent; waits up to `timeout` for it.
  auto read_confirms = [&](std::chrono::milliseconds timeout) {
    if (!c.wait(-1, timeout)) return;
    amqp_frame_t f;
    while (c.next_frame(f)) {
      if (f.frame_type != AMQP_FRAME_METHOD) continue;
      if (f.payload.method.id == AMQP_BASIC_ACK_METHOD)
        confirmed = std::max<std::uint64_t>(
            confirmed, static_cast<amqp_basic_ack_t*>(f.payload.method.decoded)->delivery_tag);
      else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD)
        throw std::runtime_error("the broker nacked a publish");
      else
        c.handle_close(f);
    }
  };
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    if (rate > 0) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate));
      for (auto now = Clock::now(); now < due; now = Clock::now())
        read_confirms(std::chrono::ceil<std::chrono::milliseconds>(due - now));
    }
    const std::string event_id = new_uuid();
    const bus::Envelope e = sample(ns, type, event_id, i);
    const std::string body = bus::encode_envelope(e);
    amqp_basic_properties_t p{};
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
    p.content_type = amqp_cstring_bytes("application/vnd.masstransit+json");
    p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    p.message_id = view(e.message_id);
    if (stamps) std::fprintf(stamps, "%s\t%lld\n", event_id.c_str(), static_cast<long long>(now_ms()));
    c.check_status(amqp_basic_publish(c.get(), 1, view(exchange), amqp_empty_bytes, 0, 0, &p, view(body)),
                   "publish");
    while (static_cast<std::uint64_t>(i + 1) - confirmed > 1000) read_confirms(std::chrono::milliseconds(100));
  }
  while (confirmed < static_cast<std::uint64_t>(count)) read_confirms(std::chrono::milliseconds(100));
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (stamps) std::fclose(stamps);
  std::printf("{\"published\":%d,\"seconds\":%.3f,\"rate\":%.0f}\n", count, secs, count / secs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  comms::log::init(comms::log::Format::text, comms::log::Level::warn);
  try {
    if (a.size() == 6 && a[0] == "fill") return fill(a[1], a[2], std::stoi(a[3]), a[4], a[5]);
    if (a.size() == 6 && a[0] == "reference")
      return reference(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]), std::max(1, std::stoi(a[5])));
    if (a.size() >= 6 && a.size() <= 8 && a[0] == "publish")
      return publish(a[1], a[2], std::stoi(a[3]), a[4], a[5], a.size() > 6 ? std::stod(a[6]) : 0,
                     a.size() > 7 ? a[7] : "");
    if ((a.size() == 8 || a.size() == 9) && a[0] == "bus")
      return through_bus(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]), a[5], a[6], std::stoi(a[7]),
                         a.size() == 9 ? std::stoi(a[8]) : 0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_bus: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: see the comment at the top of bench/bus/bus_bench.cc\n");
  return 2;
}
