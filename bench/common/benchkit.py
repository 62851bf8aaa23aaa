"""Pieces the Python benchmark drivers share (bench/bus/e2e.py, bench/cluster/run.py).

Import after putting bench/common on sys.path; it puts tests/integration there too, for the peers
module that starts the private RabbitMQ (the same one the tests use).
"""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pika

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import peers  # noqa: E402


def run_bench_bus(bench: str, *args) -> dict:
    """Runs `bench_bus ARGS...` and returns the JSON object on its last output line."""
    out = subprocess.run([bench, *map(str, args)], capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise SystemExit(f"bench_bus {' '.join(map(str, args))} failed:\n{out.stdout}{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def stat_fields(pid) -> list[str] | None:
    """/proc/PID/stat after the command name, or None when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


TICK = os.sysconf("SC_CLK_TCK")


def stop_process(proc: subprocess.Popen | None, timeout: float = 30):
    """SIGTERM (a graceful stop), then SIGKILL after `timeout` seconds."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process in the process group."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = stat_fields(entry.name)
        if fields and int(fields[2]) == pgid:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


class Broker:
    """The private RabbitMQ and a pika connection for inspecting and cleaning its queues."""

    def __init__(self):
        self.peer = peers.RabbitMQ().start()
        self.url = self.peer.url
        self.pgid = self.peer.procs["server"].pid
        self.conn = pika.BlockingConnection(pika.URLParameters(self.url))

    def depth(self, queue: str) -> int | None:
        """Ready messages in `queue`, None when it does not exist."""
        ch = self.conn.channel()
        try:
            return ch.queue_declare(queue, passive=True).method.message_count
        except pika.exceptions.ChannelClosedByBroker:
            return None
        finally:
            if ch.is_open:
                ch.close()

    def delete_endpoint(self, queue: str, exchanges=()):
        """Deletes a receive endpoint (queue, _error, _skipped and their exchanges) and `exchanges`."""
        ch = self.conn.channel()
        for q in (queue, f"{queue}_error", f"{queue}_skipped"):
            ch.queue_delete(q)
            ch.exchange_delete(q)
        for x in exchanges:
            ch.exchange_delete(x)
        ch.close()

    def close(self):
        self.conn.close()
        self.peer.close()
