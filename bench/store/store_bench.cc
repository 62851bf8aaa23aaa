// Measures notification inserts per second through the store's write path.
//
// Each configuration runs on a fresh SQLite file: N submitter threads each loop
// write_sync(insert one notification) for a fixed time. The reference in the
// same run is max_batch = 1 (one transaction and one WAL sync per insert) next
// to group commit (max_batch = 256), under synchronous FULL and NORMAL.
//
//   bench_store [--seconds S] [--dir PATH]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "store/store.h"

namespace {

using namespace comms;
using Clock = std::chrono::steady_clock;

struct Config {
  int submitters;
  bool synchronous_full;
  int max_batch;
};

struct Result {
  double inserts_per_s;
  double mean_batch;
  double p50_us;
  double p99_us;
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

Result run(const Config& c, const std::filesystem::path& dir, double seconds) {
  std::filesystem::remove_all(dir);
  store::StoreOptions o;
  o.url = "sqlite:" + (dir / "bench.db").string();
  o.synchronous_full = c.synchronous_full;
  o.max_batch = c.max_batch;
  auto s = store::open_store(o);
  s->migrate();

  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(c.submitters);
  std::vector<std::thread> threads;
  const auto before = s->stats();
  const auto start = Clock::now();
  for (int t = 0; t < c.submitters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        domain::Notification n = make_notification(t, i);
        const auto t0 = Clock::now();
        store::write_sync(*s, [&](store::UnitOfWork& u) { u.notifications().insert(n); });
        latencies[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const auto after = s->stats();
  s->close();
  std::filesystem::remove_all(dir);

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[static_cast<std::size_t>(p * (all.size() - 1))];
  };
  const double units = static_cast<double>(after.write_units - before.write_units);
  const double batches = static_cast<double>(after.write_batches - before.write_batches);
  return {static_cast<double>(all.size()) / elapsed, batches > 0 ? units / batches : 0, pct(0.50), pct(0.99)};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  std::filesystem::path base = std::filesystem::temp_directory_path();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) base = argv[i + 1];
  }
  const auto dir = base / ("comms-bench-store-" + new_uuid());

  std::printf("| sync | submitters | max_batch | inserts/s | mean batch | p50 latency | p99 latency |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (bool full : {true, false}) {
    for (int submitters : {1, 16, 64}) {
      for (int max_batch : {1, 256}) {
        const Result r = run({submitters, full, max_batch}, dir, seconds);
        std::printf("| %s | %d | %d | %.0f | %.1f | %.0f us | %.0f us |\n", full ? "FULL" : "NORMAL",
                    submitters, max_batch, r.inserts_per_s, r.mean_batch, r.p50_us, r.p99_us);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
