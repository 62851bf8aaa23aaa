#include "bus/receiver.h"

#include <cxxabi.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "bus/masstransit.h"
#include "common/log.h"

namespace comms::bus {
namespace {

namespace asio = boost::asio;

std::string demangle(const std::type_info& t) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status),
                                                   &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(t.name());
}

// Short pauses between in-process retries: 50 ms doubling, at most 1 s.
std::chrono::milliseconds retry_delay(int attempt) {
  return std::chrono::milliseconds(std::min(1000, 50 << std::min(attempt - 1, 5)));
}

}  // namespace

void Receiver::subscribe(const std::string& type, Consumer consumer) {
  consumers_.erase(type);
  const std::string label = metrics_.type_label(type);
  const std::string_view l[] = {label};
  consumers_.emplace(
      type, Route{std::move(consumer), label, metrics_.consumed.labels(l), metrics_.acked.labels(l),
                  metrics_.faulted.labels(l), metrics_.retries.labels(l), metrics_.handle_seconds.labels(l)});
}

std::vector<std::string> Receiver::types() const {
  std::vector<std::string> out;
  for (const auto& [type, c] : consumers_) out.push_back(type);
  return out;
}

Verdict Receiver::undecodable(const std::string& error, const std::string& message_id) const {
  metrics_.consumed.labels({"unknown"}).inc();
  metrics_.faulted.labels({"unknown"}).inc();
  log::warn("bus_message_undecodable", {{"message_id", message_id}, {"error", error}});
  return {Verdict::Kind::fault, "", error, kEnvelopeErrorType, 0};
}

asio::awaitable<Verdict> Receiver::handle(const Envelope& e) const {
  const auto started = std::chrono::steady_clock::now();
  const Route* route = nullptr;
  std::string type;
  for (const auto& urn : e.message_type) {
    std::string t = type_from_urn(urn);
    if (auto it = consumers_.find(t); it != consumers_.end()) {
      route = &it->second;
      type = std::move(t);
      break;
    }
  }
  if (!route) {
    const std::string first = e.type_name();
    const std::string label = metrics_.type_label(first);
    metrics_.consumed.labels({label}).inc();
    metrics_.skipped.labels({label}).inc();
    log::info("bus_message_skipped", {{"type", first}, {"message_id", e.message_id}});
    co_return Verdict{Verdict::Kind::skip, first, "no consumer for " + first, "", 0};
  }

  route->consumed.inc();
  Verdict v{Verdict::Kind::fault, type, "", "", 0};
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      route->retries.inc();
      asio::steady_timer timer(co_await asio::this_coro::executor, retry_delay(attempt));
      co_await timer.async_wait(asio::use_awaitable);
    }
    v.retries = attempt;
    bool transient = false;
    try {
      HandleResult r = co_await route->consumer(e);
      if (r.outcome == Outcome::done) {
        v.kind = Verdict::Kind::ack;
        break;
      }
      v.reason = r.reason.empty()
                     ? "consumer returned " + std::string(r.outcome == Outcome::fault ? "fault" : "retry")
                     : r.reason;
      v.exception_type = r.outcome == Outcome::fault ? kConsumerFaultType : kRetryLimitType;
      transient = r.outcome == Outcome::retry;
    } catch (const std::exception& ex) {
      v.reason = ex.what();
      v.exception_type = demangle(typeid(ex));
      transient = true;
    } catch (...) {
      v.reason = "unknown exception";
      v.exception_type = "unknown";
      transient = true;
    }
    if (!transient || attempt >= retry_limit_) break;
    log::debug("bus_consumer_retry", {{"type", type}, {"message_id", e.message_id}, {"reason", v.reason}});
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  route->seconds.observe(seconds);
  if (v.kind == Verdict::Kind::ack) {
    route->acked.inc();
  } else {
    route->faulted.inc();
    log::warn("bus_message_faulted", {{"type", type},
                                      {"message_id", e.message_id},
                                      {"retries", std::to_string(v.retries)},
                                      {"exception_type", v.exception_type},
                                      {"reason", v.reason}});
  }
  co_return v;
}

}  // namespace comms::bus
