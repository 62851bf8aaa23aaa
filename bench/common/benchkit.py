"""Pieces the Python benchmark drivers share (bench/bus/e2e.py, bench/cluster/run.py).

Import after putting bench/common on sys.path; it puts tests/integration there too, for the peers
module that starts the private RabbitMQ (the same one the tests use).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
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


class CommsProcess:
    """One `comms serve` on a temp data dir and a free port; `env` is added to its environment."""

    def __init__(self, comms: str, env: dict, prefix: str):
        self.comms = comms
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "COMMS_HTTP_ADDR": f"127.0.0.1:{self.port}",
            "COMMS_DATA_DIR": str(self.dir),
            **env,
        }
        self.proc = None

    def start(self):
        log = open(self.dir / "server.log", "ab")
        self.proc = subprocess.Popen([self.comms, "serve"], env=self.env, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()

    def get(self, path: str) -> tuple[int, str]:
        return peers.http_get(f"http://127.0.0.1:{self.port}{path}", timeout=5)

    def metric(self, name: str, labels: str = "") -> float:
        """Sum of the samples of `name` whose label text contains `labels`."""
        total = 0.0
        for m in re.finditer(rf"^{name}(\{{[^}}]*\}})? (\S+)$", self.get("/metrics")[1], re.M):
            if labels in (m.group(1) or ""):
                total += float(m.group(2))
        return total

    def check(self):
        """SystemExit with the log when the process has exited."""
        if self.proc.poll() is not None:
            raise SystemExit(f"comms exited with {self.proc.returncode}:\n{self.log()}")

    def wait_ready(self, timeout=60):
        """/health/ready answers 200 and the consumer is connected (the topology is declared)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check()
            try:
                if self.get("/health/ready")[0] == 200 and \
                        self.metric("comms_bus_connected", 'connection="consume"') == 1:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("comms did not become ready:\n" + self.log())

    def stop(self):
        stop_process(self.proc)

    def log(self) -> str:
        return (self.dir / "server.log").read_text(errors="replace")[-4000:]

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
