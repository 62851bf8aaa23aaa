// Measures the store's write path: units of work per second, each inserting one
// notification and one outbox row (what accepting a notification or recording
// a send outcome costs), from N concurrent submitters.
//
// Side by side in one run, for each N:
//   sqlite  group commit (max_batch 256), synchronous FULL and NORMAL, and the
//           reference max_batch = 1 (one transaction and one WAL sync per unit);
//   postgres the store (pipelined group commit, max_batch 256, with 1 and with
//           2 writer connections), the same with max_batch = 1 (pipelined, one
//           commit per unit, 2 writers), and the reference
//           "one row per round trip": N connections issuing autocommit INSERTs,
//           so each row costs a round trip and a commit (needs --pg).
// Each configuration starts from empty tables (a fresh SQLite file or a fresh
// PostgreSQL schema).
//
//   bench_store [--seconds S] [--dir PATH] [--pg postgres://...] [--submitters 1,16,64] [--only NAME]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "store/postgres/connection.h"
#include "store/store.h"

namespace {

using namespace comms;
using Clock = std::chrono::steady_clock;

struct Result {
  double units_per_s = 0;
  double mean_batch = 0;  // 0: not a Store
  double p50_us = 0;
  double p99_us = 0;
};

domain::Notification make_notification(int submitter, int i) {
  domain::Notification n;
  n.id = new_uuid();
  n.event_id = new_uuid();
  n.recipient_id = "cust-" + std::to_string(submitter);
  n.channel = domain::Channel::sms;
  n.to = "+260971234567";
  n.template_category = "loans";
  n.template_name = "repayment_reminder";
  n.personalization = R"({"name":"Mwansa","amount":"K 1,250.00","due":"2026-12-01"})";
  n.content = "Dear Mwansa, your repayment of K 1,250.00 is due on 2026-12-01. Pay via *303#.";
  n.next_attempt_at = now_ms();
  n.created_at = n.next_attempt_at;
  n.priority = i % 3;
  return n;
}

store::OutboxMessage make_event(const domain::Notification& n) {
  return {0,
          new_uuid(),
          "NotificationQueued",
          R"({"notificationId":")" + n.id + R"(","channel":"sms","recipientId":")" + n.recipient_id + "\"}",
          n.id,
          n.created_at,
          0,
          0,
          ""};
}

// Runs `unit(submitter, i)` in a closed loop on `submitters` threads for `seconds`.
Result drive(int submitters, double seconds, const std::function<void(int, int)>& unit) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(submitters);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int t = 0; t < submitters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        const auto t0 = Clock::now();
        unit(t, i);
        latencies[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[static_cast<std::size_t>(p * (all.size() - 1))];
  };
  return {static_cast<double>(all.size()) / elapsed, 0, pct(0.50), pct(0.99)};
}

Result run_store(const std::string& url, int max_batch, bool synchronous_full, int submitters, double seconds,
                 int write_threads = 2) {
  store::StoreOptions o;
  o.url = url;
  o.max_batch = max_batch;
  o.write_threads = write_threads;
  o.synchronous_full = synchronous_full;
  auto s = store::open_store(o);
  s->migrate();
  const auto before = s->stats();
  Result r = drive(submitters, seconds, [&](int t, int i) {
    domain::Notification n = make_notification(t, i);
    store::OutboxMessage m = make_event(n);
    store::write_sync(*s, [&](store::UnitOfWork& u) {
      u.notifications().insert(n);
      u.outbox().add(m);
    });
  });
  const auto after = s->stats();
  s->close();
  const double batches = static_cast<double>(after.write_batches - before.write_batches);
  r.mean_batch = batches > 0 ? static_cast<double>(after.write_units - before.write_units) / batches : 0;
  return r;
}

// The reference: a connection per submitter, each row its own autocommit INSERT and round trip.
Result run_autocommit(const std::string& url, int submitters, double seconds) {
  {
    store::StoreOptions o;
    o.url = url;
    o.read_threads = 1;
    store::open_store(o)->migrate();
  }
  std::vector<std::unique_ptr<store::postgres::Connection>> conns;
  for (int t = 0; t < submitters; ++t) conns.push_back(std::make_unique<store::postgres::Connection>(url));
  return drive(submitters, seconds, [&](int t, int i) {
    const domain::Notification n = make_notification(t, i);
    const store::OutboxMessage m = make_event(n);
    auto& c = *conns[t];
    c.query(
        "INSERT INTO notifications (id, event_id, recipient_id, channel, to_address, template_category, "
        "template_name, personalization, content, status, priority, next_attempt_at, created_at, version) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'Pending', $10, $11, $12, 1)",
        store::postgres::Params()
            .add(n.id)
            .add(n.event_id)
            .add(n.recipient_id)
            .add("sms")
            .add(n.to)
            .add(n.template_category)
            .add(n.template_name)
            .add(n.personalization)
            .add(n.content)
            .add(n.priority)
            .add(n.next_attempt_at)
            .add(n.created_at),
        true);
    c.query(
        "INSERT INTO outbox (id, message_type, payload, correlation_id, created_at) VALUES ($1, $2, $3, $4, "
        "$5) "
        "RETURNING seq",
        store::postgres::Params()
            .add(m.id)
            .add(m.message_type)
            .add(m.payload)
            .add(m.correlation_id)
            .add(m.created_at),
        true);
  });
}

// A fresh, empty schema on the server at `server_url`, dropped on destruction.
class Schema {
 public:
  explicit Schema(std::string server_url) : server_url_(std::move(server_url)) {
    std::string hex;
    for (char c : new_uuid())
      if (c != '-') hex += c;
    name_ = "bench_" + hex;
    store::postgres::Connection(server_url_).script("CREATE SCHEMA " + name_);
  }
  ~Schema() { store::postgres::Connection(server_url_).script("DROP SCHEMA " + name_ + " CASCADE"); }
  std::string url() const {
    return server_url_ + (server_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + name_;
  }

 private:
  std::string server_url_;
  std::string name_;
};

std::vector<int> parse_list(const char* text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  std::filesystem::path base = std::filesystem::temp_directory_path();
  std::string pg;
  std::string only;
  std::vector<int> submitter_counts{1, 16, 64};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) base = argv[i + 1];
    if (std::strcmp(argv[i], "--pg") == 0) pg = argv[i + 1];
    if (std::strcmp(argv[i], "--submitters") == 0) submitter_counts = parse_list(argv[i + 1]);
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
  }

  struct Config {
    std::string name;
    bool postgres;
    std::function<Result(const std::string& url, int submitters)> run;
  };
  const std::vector<Config> configs{
      {"sqlite FULL, max_batch 1 (ref)", false,
       [&](const std::string& url, int n) { return run_store(url, 1, true, n, seconds); }},
      {"sqlite FULL, group commit", false,
       [&](const std::string& url, int n) { return run_store(url, 256, true, n, seconds); }},
      {"sqlite NORMAL, group commit", false,
       [&](const std::string& url, int n) { return run_store(url, 256, false, n, seconds); }},
      {"postgres autocommit row/round trip (ref)", true,
       [&](const std::string& url, int n) { return run_autocommit(url, n, seconds); }},
      {"postgres pipelined, max_batch 1", true,
       [&](const std::string& url, int n) { return run_store(url, 1, true, n, seconds); }},
      {"postgres pipelined group commit, 1 writer", true,
       [&](const std::string& url, int n) { return run_store(url, 256, true, n, seconds, 1); }},
      {"postgres pipelined group commit, 2 writers", true,
       [&](const std::string& url, int n) { return run_store(url, 256, true, n, seconds); }},
  };

  std::printf("| submitters | backend and write path | units/s | mean batch | p50 latency | p99 latency |\n");
  std::printf("|---:|---|---:|---:|---:|---:|\n");
  for (int n : submitter_counts) {
    for (const Config& c : configs) {
      if (c.postgres && pg.empty()) continue;
      if (!only.empty() && c.name.find(only) == std::string::npos) continue;
      Result r;
      if (c.postgres) {
        Schema schema(pg);
        r = c.run(schema.url(), n);
      } else {
        const auto dir = base / ("comms-bench-store-" + new_uuid());
        r = c.run("sqlite:" + (dir / "bench.db").string(), n);
        std::filesystem::remove_all(dir);
      }
      const std::string batch = r.mean_batch > 0 ? std::to_string(r.mean_batch).substr(0, 5) : "-";
      std::printf("| %d | %s | %.0f | %s | %.0f us | %.0f us |\n", n, c.name.c_str(), r.units_per_s,
                  batch.c_str(), r.p50_us, r.p99_us);
      std::fflush(stdout);
    }
  }
  return 0;
}
