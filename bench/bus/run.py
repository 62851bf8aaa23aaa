"""Runs bench_bus against a fresh broker: for each prefetch, alternating rounds of the plain
rabbitmq-c no-op consumer (one ack per message), the same with one multiple-ack per
prefetch/4 messages (the broker's ceiling), and the bus, each draining its own pre-filled
queue of N envelopes.

    python3 bench/bus/run.py BUILD/bench_bus [MESSAGES] [PREFETCH...]

Add a consumer by adding a function that drains a filled queue and returns events/s, and a
column for it. The end-to-end run (events -> dispatched notifications through `comms serve`)
is bench/bus/e2e.py.
"""
import json
import os
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "integration"))
import peers  # noqa: E402

BENCH = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
PREFETCHES = [int(p) for p in sys.argv[3:]] or [32, 128, 256, 1024]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
THREADS = os.environ.get("BENCH_THREADS", "2")
# A handler that waits this long stands in for one that commits to the database.
HANDLER_MS = int(os.environ.get("BENCH_HANDLER_MS", "5"))
NS, TYPE = "IntelliFin.Contracts", "LoanApplicationCreated"


def run(*args) -> dict:
    out = subprocess.run([BENCH, *map(str, args)], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"bench_bus {' '.join(map(str, args))} failed:\n{out.stdout}{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def fresh_queue(url: str) -> str:
    q = f"bench-{uuid.uuid4().hex[:8]}"
    run("fill", url, q, N, NS, TYPE)
    return q


def reference(url: str, prefetch: int, ack_every: int = 1) -> float:
    return run("reference", url, fresh_queue(url), N, prefetch, ack_every)["rate"]


def bus(url: str, prefetch: int, handler_ms: int = 0) -> float:
    return run("bus", url, fresh_queue(url), N, prefetch, NS, TYPE, THREADS, handler_ms)["rate"]


def main():
    broker = peers.RabbitMQ().start()
    try:
        size = run("fill", broker.url, "bench-size", 1, NS, TYPE)["avg_bytes"]
        print(f"{N} persistent envelopes of ~{size} bytes per run, {ROUNDS} rounds (ABAB), "
              f"bus on {THREADS} I/O threads; RabbitMQ {broker.ctl('version').strip()}\n")
        print(f"| prefetch | reference, ack each (msg/s) | reference, multiple-ack (msg/s) | bus (msg/s) "
              f"| bus / ack each | bus / multiple-ack | bus, {HANDLER_MS} ms handler (msg/s) |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for prefetch in PREFETCHES:
            plain, batched, ours, slow = [], [], [], []
            for _ in range(ROUNDS):
                plain.append(reference(broker.url, prefetch))
                batched.append(reference(broker.url, prefetch, max(1, prefetch // 4)))
                ours.append(bus(broker.url, prefetch))
                slow.append(bus(broker.url, prefetch, HANDLER_MS))
            p, m, b, s = (statistics.median(x) for x in (plain, batched, ours, slow))
            print(f"| {prefetch} | {p:,.0f} | {m:,.0f} | {b:,.0f} | {b / p:.2f} | {b / m:.2f} | {s:,.0f} |",
                  flush=True)
    finally:
        broker.close()


if __name__ == "__main__":
    main()
