"""Issue 4's end-to-end benchmark: events per second from RabbitMQ to durable, dispatched
notifications (dev inbox channel) through the real `comms serve`, side by side in one run, on
one private broker, with the plain rabbitmq-c no-op consumer (the broker's own limit here).

    python3 bench/bus/e2e.py BUILD/bench_bus BUILD/comms [EVENTS]

Rounds alternate (ABAB, BENCH_ROUNDS, default 2):

- reference: a fresh queue filled with EVENTS persistent PaymentReceived envelopes, drained by
  `bench_bus reference` (prefetch 256, one ack per message): events/s from the first delivery
  to the last.
- service: a fresh database (temp COMMS_DATA_DIR), a fresh receive endpoint (COMMS_BUS_QUEUE).
  `comms serve` starts once to declare its topology and stops; EVENTS envelopes are published
  to the type's exchange `IntelliFin.Contracts:PaymentReceived`; `comms serve` starts again and
  drains them. Events/s from the first intake (the earliest notification's created_at) to the
  last dispatch (the latest sent_at); the rate from process start is shown too. Then a paced
  phase with the service running: BENCH_PACED_SHARE (0.5) of that rate for BENCH_PACED_SECONDS
  (10), each event's publish time recorded; latency = notifications.sent_at - publish time,
  joined on event_id.

Every service round checks that each event made exactly one notification, none failed, and
that nothing went to the error or skipped queue. BENCH_PERF=FILE records `perf record -g` of
the service during the first service drain into FILE. BENCH_SERVICE_ENV="K=V K=V" adds
environment to `comms serve` for diagnostic runs (e.g. COMMS_DB_SYNC_FULL=false).
"""
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "common"))
from benchkit import Broker, CommsProcess, group_cpu_seconds, run_bench_bus  # noqa: E402

BENCH, COMMS = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
PREFETCH = 256
PACED_SHARE = float(os.environ.get("BENCH_PACED_SHARE", "0.5"))
PACED_SECONDS = float(os.environ.get("BENCH_PACED_SECONDS", "10"))
PERF = os.environ.get("BENCH_PERF", "")
SERVICE_ENV = dict(kv.split("=", 1) for kv in os.environ.get("BENCH_SERVICE_ENV", "").split())
NS, TYPE = "IntelliFin.Contracts", "PaymentReceived"
EXCHANGE = f"{NS}:{TYPE}"
DISPATCHED = "status IN ('Sent', 'Delivered')"


def run(*args) -> dict:
    return run_bench_bus(BENCH, *args)


class Service(CommsProcess):
    """`comms serve` with its own receive endpoint on the broker, and its SQLite database to query."""

    def __init__(self, broker_url: str, queue: str):
        super().__init__(COMMS, {
            "COMMS_BUS": broker_url,
            "COMMS_BUS_QUEUE": queue,
            "COMMS_RULES_FILE": str(ROOT / "config" / "rules.json"),  # the shipped defaults
            **SERVICE_ENV,
        }, "comms-e2e-")

    @property
    def db(self) -> Path:
        return self.dir / "comms.db"

    def query(self, sql: str, *args):
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def wait_dispatched(self, count: int, timeout: float = 900):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (done, failed), = self.query(
                f"SELECT SUM({DISPATCHED}), SUM(status = 'Failed') FROM notifications")
            if failed:
                raise SystemExit(f"{failed} notifications failed:\n{self.log()}")
            if (done or 0) >= count:
                return
            self.check()
            time.sleep(0.1)
        raise SystemExit(f"only {done} of {count} notifications dispatched in {timeout} s")


def reference(broker: Broker) -> dict:
    queue = f"e2e-ref-{uuid.uuid4().hex[:8]}"
    run("fill", broker.url, queue, N, NS, TYPE)
    cpu0 = group_cpu_seconds(broker.pgid)
    r = run("reference", broker.url, queue, N, PREFETCH, 1)
    broker_cpu = group_cpu_seconds(broker.pgid) - cpu0
    broker.delete_endpoint(queue)
    return {"rate": r["rate"], "seconds": r["seconds"], "broker_cpu": broker_cpu, "load": os.getloadavg()[0]}


def percentile(sorted_values: list, p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]


def service(broker: Broker, perf: str) -> dict:
    queue = f"communications-e2e-{uuid.uuid4().hex[:8]}"
    svc = Service(broker.url, queue)
    try:
        svc.start()  # declares the receive endpoint and binds the type exchanges to it
        svc.wait_ready()
        svc.stop()
        run("publish", broker.url, EXCHANGE, N, NS, TYPE)
        if broker.depth(queue) != N:
            raise SystemExit(f"queue {queue} holds {broker.depth(queue)} messages, expected {N}")

        broker_cpu0 = group_cpu_seconds(broker.pgid)
        t0 = time.time()
        svc.start()
        recorder = None
        if perf:
            recorder = subprocess.Popen(["perf", "record", "-g", "-o", perf, "-p", str(svc.proc.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        svc.wait_dispatched(N)
        t1 = time.time()
        load = os.getloadavg()[0]
        comms_cpu = group_cpu_seconds(svc.proc.pid)
        broker_cpu = group_cpu_seconds(broker.pgid) - broker_cpu0
        if recorder:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(60)
        units = svc.metric("comms_store_write_units")
        batches = svc.metric("comms_store_write_batches")
        (first, last), = svc.query("SELECT MIN(created_at), MAX(sent_at) FROM notifications")
        drain = (last - first) / 1000

        # Every event: exactly one SMS notification, dispatched; nothing failed or set aside.
        (total, events, sms, dispatched, failed), = svc.query(
            f"SELECT COUNT(*), COUNT(DISTINCT event_id), SUM(channel = 'sms'), SUM({DISPATCHED}), "
            "SUM(status = 'Failed') FROM notifications")
        (consumed,), = svc.query("SELECT COUNT(*) FROM processed_events WHERE event_type = ?", TYPE)
        (inbox,), = svc.query("SELECT COUNT(*) FROM dev_inbox")
        wait_until = time.monotonic() + 30
        while (broker.depth(queue) or 0) > 0 and time.monotonic() < wait_until:
            time.sleep(0.2)  # acks can trail the last dispatch
        error, skipped = broker.depth(f"{queue}_error"), broker.depth(f"{queue}_skipped")
        ok = total == events == sms == dispatched == consumed == inbox == N and not failed \
            and not error and not skipped
        checks = (f"{N} events -> {total} notifications for {events} distinct events ({sms} SMS), "
                  f"{dispatched} dispatched, {failed or 0} failed; {consumed} events in the inbox, "
                  f"{inbox} dev-inbox messages; error queue {error}, skipped queue {skipped}")
        if not ok:
            raise SystemExit("check failed: " + checks)

        # Paced: a steady rate below the drain rate, latency from publish to dispatch.
        rate = max(1.0, PACED_SHARE * N / drain)
        count = max(1, int(rate * PACED_SECONDS))
        stamps = svc.dir / "stamps.tsv"
        published = run("publish", broker.url, EXCHANGE, count, NS, TYPE, f"{rate:.1f}", stamps)
        svc.wait_dispatched(N + count)
        sent = dict(svc.query(f"SELECT event_id, sent_at FROM notifications WHERE {DISPATCHED}"))
        latencies = sorted(sent[eid] - int(ms) for eid, ms in
                           (line.split("\t") for line in stamps.read_text().splitlines()))
        return {"rate": N / drain, "rate_from_start": N / (t1 - t0), "seconds": drain,
                "paced_rate": rate, "paced_published": published["rate"], "paced_count": count,
                "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                "max": latencies[-1], "units": units / N, "batch": units / max(batches, 1),
                "comms_cpu": comms_cpu, "broker_cpu": broker_cpu, "wall": t1 - t0, "load": load,
                "checks": checks}
    finally:
        svc.close()
        broker.delete_endpoint(queue)


def main():
    broker = Broker()
    try:
        size = run("fill", broker.url, "e2e-size", 1, NS, TYPE)["avg_bytes"]
        broker.delete_endpoint("e2e-size")
        print(f"{N} persistent {TYPE} envelopes of ~{size} bytes per round, {ROUNDS} rounds (ABAB), "
              f"prefetch {PREFETCH}; RabbitMQ {broker.peer.ctl('version').strip()}; "
              f"{os.cpu_count()} CPUs shared with other work"
              + (f"; service env {SERVICE_ENV}" if SERVICE_ENV else "") + "\n", flush=True)
        rows = []
        for i in range(ROUNDS):
            ref = reference(broker)
            print(f"round {i + 1} reference: {ref['rate']:,.0f} events/s ({ref['seconds']:.1f} s, "
                  f"broker {ref['broker_cpu']:.1f} CPU-s, load {ref['load']:.1f})", flush=True)
            svc = service(broker, PERF if i == 0 else "")
            print(f"round {i + 1} service: {svc['rate']:,.0f} events/s first intake to last dispatch "
                  f"({svc['seconds']:.1f} s; {svc['rate_from_start']:,.0f}/s from process start), "
                  f"CPU comms {svc['comms_cpu']:.1f} s + broker {svc['broker_cpu']:.1f} s in "
                  f"{svc['wall']:.1f} s, {svc['units']:.2f} write units per event in groups of "
                  f"{svc['batch']:.1f}, load {svc['load']:.1f}\n"
                  f"  paced {svc['paced_count']} events at {svc['paced_rate']:,.0f}/s (published at "
                  f"{svc['paced_published']:,.0f}/s): p50 {svc['p50']} ms, p99 {svc['p99']} ms, "
                  f"max {svc['max']} ms\n  {svc['checks']}", flush=True)
            rows.append((ref, svc))
        print("\n| round | reference, ack each (events/s) | service, events -> dispatched (events/s) "
              "| ratio | service from process start (events/s) | paced rate (events/s) "
              "| p50 (ms) | p99 (ms) | load average (ref / service) |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for i, (ref, svc) in enumerate(rows):
            print(f"| {i + 1} | {ref['rate']:,.0f} | {svc['rate']:,.0f} | {svc['rate'] / ref['rate']:.2f} "
                  f"| {svc['rate_from_start']:,.0f} | {svc['paced_rate']:,.0f} | {svc['p50']} | {svc['p99']} "
                  f"| {ref['load']:.1f} / {svc['load']:.1f} |")
        ref_m = statistics.median(r["rate"] for r, _ in rows)
        svc_m = statistics.median(s["rate"] for _, s in rows)
        print(f"| median | {ref_m:,.0f} | {svc_m:,.0f} | {svc_m / ref_m:.2f} "
              f"| {statistics.median(s['rate_from_start'] for _, s in rows):,.0f} "
              f"| {statistics.median(s['paced_rate'] for _, s in rows):,.0f} "
              f"| {statistics.median(s['p50'] for _, s in rows):.0f} "
              f"| {statistics.median(s['p99'] for _, s in rows):.0f} | |")
    finally:
        broker.close()


if __name__ == "__main__":
    main()
