"""The `comms` CLI, configuration errors, and the kill -9 crash test (issue 2)."""
import collections
import socket
import sqlite3
import threading
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.dirname(__file__))
from comms_server import CommsServer  # noqa: E402


def test_help_and_version():
    s = CommsServer()
    r = s.cli("--help")
    assert r.returncode == 0 and "serve" in r.stdout and "token" in r.stdout
    r = s.cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("comms ")


def test_bad_arguments_exit_nonzero_with_one_line():
    s = CommsServer()
    for args, needle in [
        (["frobnicate"], "frobnicate"),
        ([], "no command"),
        (["token", "--sub", "x", "--role", "king"], "--role"),
        (["token", "--role", "admin"], "--sub"),
        (["token", "--sub", "x", "--role", "admin", "--bogus", "1"], "--bogus"),
        (["send", "--recipient", "r", "--channel", "sms", "--to", "12", "--content", "x"], "phone number"),
    ]:
        r = s.cli(*args)
        assert r.returncode != 0, args
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and needle in lines[0], (args, r.stderr)


def test_config_errors_name_the_key(tmp_path):
    s = CommsServer()
    for env, needle in [
        ({"COMMS_NOT_A_KEY": "1"}, "COMMS_NOT_A_KEY"),
        ({"COMMS_RATE_LIMIT": "fast"}, "COMMS_RATE_LIMIT"),
        ({"COMMS_HTTP_ADDR": "nowhere"}, "COMMS_HTTP_ADDR"),
        ({"COMMS_LOG_FORMAT": "xml"}, "COMMS_LOG_FORMAT"),
        ({"COMMS_JWT_SECRET": "short"}, "COMMS_JWT_SECRET"),
    ]:
        r = s.cli("serve", env=env)
        assert r.returncode == 2, (env, r.stderr)
        assert needle in r.stderr, (env, r.stderr)
    cfg = tmp_path / "comms.json"
    cfg.write_text('{"http_addr": "127.0.0.1:1", "colour": "blue"}')
    r = s.cli("--config", str(cfg), "serve")
    assert r.returncode == 2 and "colour" in r.stderr
    cfg.write_text('{"log_format": "json"}')
    r = s.cli("--config", str(cfg), "config")
    assert r.returncode == 0 and "COMMS_LOG_FORMAT=json" in r.stdout and "file" in r.stdout
    assert "integration-test-secret" not in r.stdout  # secrets are hidden


def test_migrate_is_idempotent():
    s = CommsServer()
    r1 = s.cli("migrate")
    r2 = s.cli("migrate")
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    assert "applied 0 migration" in r2.stdout


def test_cli_send_is_dispatched_by_the_server():
    s = CommsServer().start()
    try:
        r = s.cli("send", "--recipient", "cli-1", "--channel", "sms", "--to", "+260977000001",
                  "--content", "from the CLI")
        assert r.returncode == 0, r.stderr
        nid = r.stdout.strip()
        n = s.wait_status(nid, s.token("a", "admin"), {"Delivered"})
        assert n["content"] == "from the CLI"
    finally:
        s.stop()


def test_logs_hold_no_secrets_or_full_phone_numbers():
    s = CommsServer(env={"COMMS_LOG_LEVEL": "debug"}).start()
    try:
        tok = s.token("svc", "service")
        r = s.request("POST", "/api/v1/notifications?access_token=" + tok, tok,
                      {"recipientId": "p-1", "channel": "sms", "to": "+260971239876", "content": "x"})
        s.wait_status(r.json()["notificationId"], s.token("a", "admin"), {"Delivered"})
    finally:
        s.stop()
    log = s.log()
    assert "+260971239876" not in log
    assert tok not in log
    assert "integration-test-secret" not in log


def test_kill9_mid_dispatch_loses_nothing_and_duplicates_nothing():
    # Email goes to an SMTP server that accepts connections and never answers, so every
    # email is certainly Pending or Sending when the process dies; SMS flows to the dev inbox.
    # After the restart (dev inbox for every channel) all of them must arrive exactly once.
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(64)
    held = []
    threading.Thread(target=lambda: [held.append(blackhole.accept()) for _ in range(64)], daemon=True).start()
    s = CommsServer(env={"COMMS_LEASE": "2000", "COMMS_DISPATCH_CONCURRENCY": "4",
                         "COMMS_SMTP_URL": f"smtp://127.0.0.1:{blackhole.getsockname()[1]}",
                         "COMMS_SMTP_FROM": "noreply@intellifin.zm",
                         "COMMS_PROVIDER_TIMEOUT_MS": "60000"}).start()
    svc = s.token("svc", "service")
    admin = s.token("a", "admin")
    accepted = []
    lock = threading.Lock()
    stop = threading.Event()

    def poster(worker):
        session = requests.Session()
        i = 0
        while not stop.is_set():
            i += 1
            try:
                body = ({"recipientId": f"crash-{worker}", "channel": "sms", "to": "+260970000000",
                         "content": f"crash {worker}-{i}"} if i % 2 else
                        {"recipientId": f"crash-{worker}", "channel": "email", "to": "c@example.com",
                         "subject": "s", "content": f"crash {worker}-{i}"})
                r = session.post(s.base + "/api/v1/notifications", json=body,
                                 headers={"Authorization": "Bearer " + svc}, timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 202:
                with lock:
                    accepted.append(r.json()["notificationId"])

    threads = [threading.Thread(target=poster, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            if len(accepted) >= 800:
                break
        time.sleep(0.01)
    s.kill9()
    stop.set()
    for t in threads:
        t.join()
    assert len(accepted) >= 800
    db = sqlite3.connect(os.path.join(s.data_dir, "comms.db"))
    states = dict(db.execute("SELECT status, COUNT(*) FROM notifications GROUP BY status").fetchall())
    db.close()
    total = sum(states.values())
    assert total >= len(accepted)  # every 202 was durable (some unanswered requests may be durable too)
    assert states.get("Pending", 0) + states.get("Sending", 0) > 0, states  # the kill interrupted work

    s2 = CommsServer(data_dir=s.data_dir, env={"COMMS_LEASE": "2000"}).start()
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            r = s2.request("GET", "/api/v1/notifications?status=Delivered&pageSize=1", admin)
            if r.json()["totalCount"] == total:
                break
            time.sleep(0.2)
        assert s2.request("GET", "/api/v1/notifications?pageSize=1", admin).json()["totalCount"] == total
        assert s2.request("GET", "/api/v1/notifications?status=Delivered&pageSize=1",
                          admin).json()["totalCount"] == total
        seen = collections.Counter()
        page = 1
        while True:
            items = s2.request("GET", f"/api/v1/dev-inbox?page={page}&pageSize=500", admin).json()["items"]
            if not items:
                break
            seen.update(m["notificationId"] for m in items)
            page += 1
        assert len(seen) == total
        assert set(accepted) <= set(seen)
        assert max(seen.values()) == 1
    finally:
        s2.stop()
        blackhole.close()
