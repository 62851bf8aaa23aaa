"""Starts the real `comms` binary for integration tests.

Each CommsServer gets its own temp data dir, a free port and a fresh SQLite
database unless `db` is given. Nothing is shared between servers.
"""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import requests

COMMS_TEST_BIN = os.environ.get("COMMS_TEST_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "comms")
SECRET = "integration-test-secret-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CommsServer:
    def __init__(self, env=None, data_dir=None, port=None):
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="comms-it-")
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "COMMS_HTTP_ADDR": f"127.0.0.1:{self.port}",
            "COMMS_DATA_DIR": self.data_dir,
            "COMMS_JWT_SECRET": SECRET,
            "COMMS_RATE_LIMIT": "0",
            "COMMS_POLL": "100",
            "COMMS_RETRY_BASE": "50",
        }
        if env:
            self.env.update(env)
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "server.log")
        self.session = requests.Session()

    # -- process control -------------------------------------------------
    def start(self, timeout=20):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([COMMS_TEST_BIN, "serve"], env=self.env, stdout=log, stderr=log,
                                     start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"comms exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.base + "/health/ready", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("comms did not become ready:\n" + self.log())

    def stop(self, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- CLI ---------------------------------------------------------------
    def cli(self, *args, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        return subprocess.run([COMMS_TEST_BIN, *args], env=e, capture_output=True, text=True, timeout=60)

    def token(self, sub, role, branch=None):
        args = ["token", "--sub", sub, "--role", role]
        if branch:
            args += ["--branch", branch]
        r = self.cli(*args)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    # -- HTTP ----------------------------------------------------------------
    def request(self, method, path, token=None, body=None, raw=None, headers=None, timeout=10):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw
        if body is not None:
            data = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        return self.session.request(method, self.base + path, data=data, headers=h, timeout=timeout)

    def wait_status(self, notification_id, token, statuses, timeout=20):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            r = self.request("GET", f"/api/v1/notifications/{notification_id}", token)
            if r.status_code == 200:
                last = r.json()
                if last["status"] in statuses:
                    return last
            time.sleep(0.05)
        raise AssertionError(f"notification {notification_id} never reached {statuses}; last: {last}")
