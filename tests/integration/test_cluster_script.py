"""scripts/cluster.sh as README's "Scale out" section uses it: start, status, env, a send on one
instance seen through the other, stop (and nothing left running)."""
import os
import subprocess
import tempfile

import requests

from comms_server import COMMS_TEST_BIN, free_port

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(action, env, timeout=300):
    return subprocess.run(["bash", os.path.join(REPO, "scripts", "cluster.sh"), action], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_cluster_script_starts_two_instances_that_share_the_work_and_stops_them():
    base = tempfile.mkdtemp(prefix="comms-cluster-")
    ports = [free_port(), free_port()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMS_")}
    env.update(CLUSTER_DIR=os.path.join(base, "cluster"), CLUSTER_PORTS=" ".join(map(str, ports)),
               CLUSTER_BIN=os.path.abspath(COMMS_TEST_BIN))
    started = run("start", env)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"instance 2: http://127.0.0.1:{ports[1]}" in started.stdout
        token = [line.split(": ", 1)[1] for line in started.stdout.splitlines() if line.startswith("admin token:")][0]

        status = run("status", env)
        assert status.returncode == 0 and status.stdout.count("running, ready") == 2, status.stdout
        shared = run("env", env).stdout
        assert "export COMMS_DB=postgres://" in shared and "export COMMS_REDIS=redis://" in shared

        headers = {"Authorization": f"Bearer {token}"}
        r = requests.post(f"http://127.0.0.1:{ports[0]}/api/v1/notifications", headers=headers, timeout=10,
                          json={"recipientId": "cluster-1", "channel": "sms", "to": "+260971234567",
                                "content": "sent through instance 1"})
        assert r.status_code == 202, r.text
        nid = r.json()["notificationId"]
        seen = requests.get(f"http://127.0.0.1:{ports[1]}/api/v1/notifications/{nid}", headers=headers, timeout=10)
        assert seen.status_code == 200 and seen.json()["content"] == "sent through instance 1"
        health = requests.get(f"http://127.0.0.1:{ports[1]}/health/ready", timeout=10).json()
        assert health["database"] == "ok" and health["redis"] == "ok"
    finally:
        stopped = run("stop", env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not os.path.exists(env["CLUSTER_DIR"])
    for port in ports:
        try:
            requests.get(f"http://127.0.0.1:{port}/health/live", timeout=1)
            raise AssertionError(f"an instance still answers on {port}")
        except requests.ConnectionError:
            pass
