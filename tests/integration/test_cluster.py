"""Scale-out (issue 7): two `comms serve` instances on one PostgreSQL, one Redis and one RabbitMQ,
all real servers started by tests/integration/peers.py, SMS through the fake Africa's Talking server
(a separate HTTP process that counts what it was sent).

- Events published to RabbitMQ are consumed by both instances as competing consumers, and every
  notification reaches the SMS provider exactly once.
- A SignalR client connected to instance B receives a notification created through instance A.
- Killing one instance mid-run leaves the other to finish; nothing is lost.
- A Redis outage mid-run is survived: no request fails, and the instances recover.
"""
import os
import re
import secrets
import sys
import time
import uuid

import pytest
import requests

sys.path.insert(0, os.path.dirname(__file__))
from comms_server import CommsServer  # noqa: E402
from hub.driver import SignalRDriver  # noqa: E402
from test_bus_rabbitmq import Publisher, envelope  # noqa: E402


def wait_for(pred, timeout=60, what="condition", interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def metric(srv, name, labels=""):
    """Sum of the samples of `name` whose label text contains `labels`."""
    text = srv.request("GET", "/metrics").text
    total = 0.0
    for m in re.finditer(rf"^{name}(\{{[^}}]*\}})? (\S+)$", text, re.M):
        if labels in (m.group(1) or ""):
            total += float(m.group(2))
    return total


class Cluster:
    def __init__(self, pg_url, redis, rabbitmq, fake_at, **extra):
        self.ns = "IntelliFin.Cluster" + uuid.uuid4().hex[:6]
        self.queue = "communications-" + uuid.uuid4().hex[:6]
        self.rabbitmq, self.redis, self.fake_at = rabbitmq, redis, fake_at
        self.env = {
            "COMMS_DB": pg_url,
            "COMMS_REDIS": redis.url,
            "COMMS_BUS": rabbitmq.url,
            "COMMS_BUS_NAMESPACE": self.ns,
            "COMMS_BUS_QUEUE": self.queue,
            "COMMS_SECRETS_KEY": secrets.token_hex(32),
            "COMMS_AT_USERNAME": fake_at.username,
            "COMMS_AT_API_KEY": fake_at.api_key,
            "COMMS_AT_BASE_URL": fake_at.base_url,
            "COMMS_LEASE": "3000",
            "COMMS_SHUTDOWN_TIMEOUT": "3000",
        }
        self.env.update(extra)
        self.instances = []

    def start(self, n=2):
        for _ in range(n):
            self.instances.append(CommsServer(env=dict(self.env)).start(timeout=40))
        # Ready answers before the bus has connected; the consumer declares the topology (the
        # exchanges the tests publish to) and then reports connected.
        for s in self.instances:
            wait_for(lambda: metric(s, "comms_bus_connected", 'connection="consume"') == 1, timeout=60,
                     what="the instance's consumer to connect and declare its topology")
        return self

    def stop(self):
        for s in self.instances:
            s.stop()


@pytest.fixture
def cluster(pg_url, redis_server, rabbitmq, fake_at):
    fake_at.reset()
    c = Cluster(pg_url, redis_server, rabbitmq, fake_at).start()
    yield c
    c.stop()


def phone(i, salt):
    return f"+26097{salt:02d}{i:05d}"


def publish_payments(cluster, count, salt):
    """`count` PaymentReceived events (one SMS each under the shipped rules, to the phone in the
    payload), each for its own customer and phone; returns the phones."""
    pub = Publisher(cluster.rabbitmq)
    phones = []
    try:
        for i in range(count):
            p = phone(i, salt)
            phones.append(p)
            message = {"eventId": str(uuid.uuid4()), "customerId": f"cl-{salt}-{i}", "customerName": "Mwansa Banda",
                       "customerPhone": p, "branchId": "lusaka-01", "paymentId": f"P-{salt}-{i}",
                       "loanId": f"L-{i}", "amount": 1150, "paymentDate": "2026-12-01T09:30:00+02:00",
                       "receiptNumber": f"R-{i}"}
            pub.send(f"{cluster.ns}:PaymentReceived", envelope(cluster.ns, "PaymentReceived", message))
    finally:
        pub.close()
    return phones


def sms_counts(fake_at):
    counts = {}
    for m in fake_at.messages():
        counts[m["number"]] = counts.get(m["number"], 0) + 1
    return counts


def test_events_are_shared_by_both_instances_and_each_sms_goes_out_once(cluster):
    a, b = cluster.instances
    phones = publish_payments(cluster, 300, salt=11)
    counts = wait_for(lambda: (lambda c: c if all(p in c for p in phones) else None)(sms_counts(cluster.fake_at)),
                      timeout=120, what="an SMS for every event")
    time.sleep(1.0)  # a duplicate, if any, would arrive by now
    counts = sms_counts(cluster.fake_at)
    doubled = {p: n for p, n in counts.items() if p in phones and n != 1}
    assert not doubled, f"sent more than once: {doubled}"
    # Competing consumers: both instances took a share of the queue.
    consumed = [metric(s, "comms_bus_consumed_total", 'type="PaymentReceived"') for s in (a, b)]
    assert sum(consumed) >= 300 and min(consumed) > 0, consumed
    # History is one table: either instance answers for every notification.
    admin = a.token("ops", "admin")
    page = b.request("GET", "/api/v1/notifications?status=Sent&pageSize=1", admin).json()
    delivered = b.request("GET", "/api/v1/notifications?status=Delivered&pageSize=1", admin).json()
    assert page["totalCount"] + delivered["totalCount"] >= 300


@pytest.fixture
def client(node, node_modules):
    d = SignalRDriver(node)
    yield d
    d.close()


def test_a_signalr_client_on_b_gets_what_a_sends_and_group_sends_cross(cluster, client):
    a, b = cluster.instances
    service = a.token("loan-origination", "service")
    client.connect("on-b", b.base, b.token("cust-x", "customer"))
    client.connect("staff-on-a", a.base, a.token("staff-1", "staff", branch="X"))
    client.connect("staff-on-b", b.base, b.token("staff-2", "staff", branch="X"))

    r = a.request("POST", "/api/v1/notifications", service,
                  {"recipientId": "cust-x", "channel": "inapp", "subject": "Loan", "content": "approved on A"})
    assert r.status_code == 202, r.text
    got = client.wait_notifications("on-b", 1, timeout=20)
    assert got[0]["content"] == "approved on A" and got[0]["id"] == r.json()["notificationId"]
    assert a.wait_status(r.json()["notificationId"], service, ["Delivered"], timeout=20)

    r = b.request("POST", "/api/v1/notifications", service,
                  {"recipientId": "branch:X", "channel": "inapp", "subject": "Branch", "content": "to branch X"})
    assert r.status_code == 202, r.text
    for name in ("staff-on-a", "staff-on-b"):
        assert client.wait_notifications(name, 1, timeout=20)[0]["content"] == "to branch X"
    assert client.notifications("on-b")[-1]["content"] == "approved on A"  # not a branch member


def test_killing_one_instance_mid_run_loses_nothing(cluster):
    a, b = cluster.instances
    # Slow the provider so that work is certainly in flight on both instances at the kill.
    cluster.fake_at.configure(delay_ms=150)
    phones = publish_payments(cluster, 200, salt=22)
    wait_for(lambda: len(sms_counts(cluster.fake_at)) >= 20, timeout=60, what="the run to be under way")
    a.kill9()
    cluster.fake_at.configure(delay_ms=0)
    counts = wait_for(lambda: (lambda c: c if all(p in c for p in phones) else None)(sms_counts(cluster.fake_at)),
                      timeout=120, what="B to finish A's share")
    # At-least-once across a crash: only what A had in flight at the kill may go twice.
    doubled = {p: n for p, n in counts.items() if p in phones and n > 1}
    assert len(doubled) <= 64, doubled
    admin = b.token("ops", "admin")
    for status in ("Pending", "Sending", "Failed"):
        left = wait_for(lambda: (lambda j: j if j["totalCount"] == 0 else None)(
            b.request("GET", f"/api/v1/notifications?status={status}&pageSize=1", admin).json()),
            timeout=60, what=f"no {status} notifications")
        assert left["totalCount"] == 0


def test_a_redis_outage_mid_run_fails_no_request(cluster):
    a, b = cluster.instances
    service = a.token("loan-origination", "service")
    admin = a.token("ops", "admin")
    ids, errors = [], []

    def burst(n, tag):
        for i in range(n):
            srv = (a, b)[i % 2]
            try:
                r = srv.request("POST", "/api/v1/notifications", service,
                                {"recipientId": f"r-{tag}-{i}", "channel": "sms", "to": phone(i, 33),
                                 "content": f"outage test {tag} {i}"}, timeout=10)
                (ids if r.status_code == 202 else errors).append(r.json().get("notificationId") or r.text)
                pref = srv.request("GET", f"/api/v1/recipients/r-{tag}-{i}/preferences", admin, timeout=10)
                if pref.status_code >= 500:
                    errors.append(pref.text)
            except requests.RequestException as e:
                errors.append(str(e))

    burst(20, "before")
    cluster.redis.stop()
    burst(40, "during")
    assert metric(a, "comms_redis_up") == 0 or metric(b, "comms_redis_up") == 0
    cluster.redis.start()
    wait_for(lambda: metric(a, "comms_redis_up") == 1 and metric(b, "comms_redis_up") == 1,
             timeout=30, what="both instances to see Redis again")
    burst(20, "after")
    assert errors == []
    for nid in ids:
        a.wait_status(nid, service, ["Sent", "Delivered"], timeout=60)
