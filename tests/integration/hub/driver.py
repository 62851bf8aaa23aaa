"""Python side of signalr_driver.js: the official @microsoft/signalr client, run by Node."""
from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


class DriverError(RuntimeError):
    pass


class SignalRDriver:
    def __init__(self, node: str):
        # Node resolves @microsoft/signalr from tests/node_modules (a parent folder of this one).
        self.proc = subprocess.Popen([node, str(HERE / "signalr_driver.js")], cwd=HERE, text=True, bufsize=1,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._ids = itertools.count(1)
        self._cv = threading.Condition()
        self._replies: dict[int, dict] = {}
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            msg = json.loads(line)
            with self._cv:
                if "id" in msg:
                    self._replies[msg["id"]] = msg
                else:
                    self.events.append(msg)
                self._cv.notify_all()

    def call(self, cmd: str, timeout: float = 20, check: bool = True, **kwargs) -> dict:
        rid = next(self._ids)
        self.proc.stdin.write(json.dumps({"id": rid, "cmd": cmd, **kwargs}) + "\n")
        self.proc.stdin.flush()
        with self._cv:
            if not self._cv.wait_for(lambda: rid in self._replies, timeout):
                raise DriverError(f"no reply to {cmd} within {timeout}s; stderr: {self.stderr()}")
            reply = self._replies.pop(rid)
        if check and not reply["ok"]:
            raise DriverError(f"{cmd} failed: {reply['error']}")
        return reply

    def connect(self, name: str, base: str, token: str | None, check: bool = True, **options) -> dict:
        return self.call("connect", check=check, name=name, url=base + "/hubs/notifications", token=token,
                         **options)

    def invoke(self, name: str, method: str, *args, check: bool = True) -> dict:
        return self.call("invoke", name=name, method=method, args=list(args), check=check)

    def wait_event(self, pred, timeout: float = 10, what: str = "event") -> dict:
        deadline = time.time() + timeout
        with self._cv:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"no {what} within {timeout}s; events: {self.events}")
                self._cv.wait(left)

    def notifications(self, name: str) -> list[dict]:
        with self._cv:
            return [e["notification"] for e in self.events if e["event"] == "notification" and e["name"] == name]

    def wait_notifications(self, name: str, count: int, timeout: float = 10) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.notifications(name)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"{name} got {len(self.notifications(name))} of {count} notifications")

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(running)"
        return self.proc.stderr.read()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
