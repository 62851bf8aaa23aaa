"""Scale-out over Redis (issue 7): two `comms` instances with their own SQLite databases share one
real redis-server (peers.Redis). What they share is what Redis carries: the L2 cache and its
invalidations, the hub backplane, and the rate-limit buckets (docs/scale-out.md).
"""
import os
import re
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from comms_server import CommsServer  # noqa: E402
from test_hub import client  # noqa: E402,F401 (the SignalR client fixture)


def start_pair(redis, **env):
    common = {"COMMS_REDIS": redis.url, "COMMS_REDIS_PREFIX": f"it-{uuid.uuid4().hex[:8]}:",
              "COMMS_SHUTDOWN_TIMEOUT": "3000", **env}
    a = CommsServer(env=common).start()
    try:
        b = CommsServer(env=common).start()
    except BaseException:
        a.stop()
        raise
    return a, b


@pytest.fixture
def pair(redis_server):
    a, b = start_pair(redis_server)
    yield a, b
    for s in (a, b):
        s.stop()


def metric(srv, name):
    m = re.search(rf"^{name} (\S+)$", srv.request("GET", "/metrics").text, re.M)
    return float(m.group(1)) if m else None


def wait_for(cond, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def prefs(srv, token, rid):
    r = srv.request("GET", f"/api/v1/recipients/{rid}/preferences", token)
    assert r.status_code == 200, r.text
    return r.json()


def put_prefs(srv, token, rid, channels, version=0):
    r = srv.request("PUT", f"/api/v1/recipients/{rid}/preferences", token,
                    {"optOut": {"channels": channels}, "version": version})
    assert r.status_code in (200, 201), r.text
    return r.json()


def wait_subscribed(redis, channel_part, n=2):
    """Both instances' subscribers are listening (they connect in the background)."""
    def ok():
        out = redis.cli("PUBSUB", "NUMSUB", *redis.cli("PUBSUB", "CHANNELS", f"*{channel_part}*").split())
        counts = out.split()[1::2]
        return bool(counts) and all(int(c) >= n for c in counts)
    wait_for(ok, what=f"{n} subscribers on *{channel_part}*")


def check_invalidation_crosses(a, b, token):
    """B caches what A cached (shared L2); a change on A drops B's L1 copy."""
    rid = "cust-" + uuid.uuid4().hex[:8]
    # B's own database says sms is opted out; nothing is cached yet (B's PUT invalidated).
    put_prefs(b, token, rid, ["sms"])
    # A reads its database (no preferences: the defaults) and caches them in L1 and Redis.
    assert prefs(a, token, rid)["version"] == 0
    # B misses L1, finds A's entry in Redis and keeps it in its L1: the L2 is shared.
    assert prefs(b, token, rid)["version"] == 0
    # A change on A drops the key from Redis and, through pub/sub, from B's L1, so B's next read
    # goes to its database (version 1, sms) instead of the L1 copy (version 0) it held.
    put_prefs(a, token, rid, ["email"])
    wait_for(lambda: prefs(b, token, rid)["version"] == 1, timeout=15, what="B seeing the invalidation")
    assert prefs(b, token, rid)["optOut"]["channels"] == ["sms"]


def test_cache_is_shared_and_invalidated_across_instances(pair, redis_server):
    a, b = pair
    token = a.token("ops", "admin")
    wait_subscribed(redis_server, "cache-invalidate")
    check_invalidation_crosses(a, b, token)
    assert metric(b, "comms_cache_l2_hits_total") >= 1
    assert metric(b, "comms_cache_invalidations_received_total") >= 1
    assert metric(a, "comms_redis_up") == 1
    health = a.request("GET", "/health/ready").json()
    assert health == {"status": "ready", "database": "ok", "redis": "ok"}
    # Keys live under the prefix, with a time to live.
    keys = redis_server.cli("--scan", "--pattern", "*prefs:*").split()
    assert keys and all(k.startswith("it-") for k in keys)
    assert int(redis_server.cli("PTTL", keys[0]).strip()) > 0


def test_recipients_are_cached_and_invalidated_across_instances(pair, redis_server):
    # Each instance of the pair has its own database and they share Redis, so what one instance
    # reads shows which copy it used: its database's, or the shared cache's.
    a, b = pair
    token = a.token("ops", "admin")
    wait_subscribed(redis_server, "cache-invalidate")
    rid = "cust-" + uuid.uuid4().hex[:8]

    def put(srv, phone):
        r = srv.request("PUT", f"/api/v1/recipients/{rid}", token, {"name": "Mwila", "phone": phone})
        assert r.status_code in (200, 201), r.text

    def get(srv):
        return srv.request("GET", f"/api/v1/recipients/{rid}", token)

    put(b, "+260977000001")
    assert get(a).status_code == 404  # A's database has no entry; "absent" is cached in L1 and Redis
    assert get(b).status_code == 404  # B finds A's entry in Redis, not its own database's row
    put(a, "+260977000002")           # drops the key in Redis and, by pub/sub, in B's L1
    wait_for(lambda: get(b).status_code == 200, timeout=15, what="B seeing the invalidation")
    assert get(b).json()["phone"] == "+260977000001"
    # B's read refilled Redis, so A's next read finds B's copy there rather than its own row.
    assert get(a).json()["phone"] == "+260977000001"
    assert redis_server.cli("--scan", "--pattern", "*rcpt:*").split()


def test_a_redis_outage_degrades_and_recovers(pair, redis_server):
    a, b = pair
    token = a.token("ops", "admin")
    wait_subscribed(redis_server, "cache-invalidate")
    rid = "cust-" + uuid.uuid4().hex[:8]
    assert prefs(a, token, rid)["version"] == 0

    redis_server.stop()
    wait_for(lambda: metric(a, "comms_redis_up") == 0 and metric(b, "comms_redis_up") == 0,
             what="comms_redis_up 0 on both")
    # Every request still succeeds: reads fall back to L1 and the database, writes to the database.
    for srv in (a, b):
        for _ in range(5):
            assert prefs(srv, token, rid)["recipientId"] == rid
        assert put_prefs(srv, token, "other-" + uuid.uuid4().hex[:6], ["sms"])["version"] == 1
        r = srv.request("POST", "/api/v1/notifications", token,
                        {"recipientId": "c1", "channel": "sms", "to": "+260971234567", "content": "hi"})
        assert r.status_code == 202, r.text
        health = srv.request("GET", "/health/ready")
        assert health.status_code == 200
        assert health.json() == {"status": "degraded", "database": "ok", "redis": "unreachable"}
    assert metric(a, "comms_cache_l2_errors_total") > 0
    assert 'comms_redis_errors_total{op="cache"}' in a.request("GET", "/metrics").text
    # Logged once per state change, not per call.
    assert a.log().count("event=redis_down") == 1, a.log()

    redis_server.start()
    wait_for(lambda: metric(a, "comms_redis_up") == 1 and metric(b, "comms_redis_up") == 1, timeout=15,
             what="comms_redis_up 1 on both")
    assert a.request("GET", "/health/ready").json()["status"] == "ready"
    assert "event=redis_up" in a.log()
    wait_subscribed(redis_server, "cache-invalidate")
    check_invalidation_crosses(a, b, token)
    # One outage, one down and one up per instance: no flapping while connections recover.
    for srv in (a, b):
        assert srv.log().count("event=redis_down") == 1 and srv.log().count("event=redis_up") == 2, srv.log()


def send_inapp(srv, token, recipient, content):
    r = srv.request("POST", "/api/v1/notifications", token,
                    {"recipientId": recipient, "channel": "inapp", "subject": "Loan", "content": content})
    assert r.status_code == 202, r.text
    return r.json()["notificationId"]


def test_hub_messages_cross_instances(pair, redis_server, client):
    a, b = pair
    service = a.token("loan-origination", "service")
    client.connect("cust", b.base, b.token("cust-42", "customer"))
    client.connect("staff", b.base, b.token("staff-1", "staff", branch="X"))
    wait_subscribed(redis_server, "hub:user:cust-42", n=1)
    wait_subscribed(redis_server, "hub:branch:X", n=1)

    # Produced and dispatched on A, where nobody is connected; received on B.
    to_user = send_inapp(a, service, "cust-42", "approved on A")
    got = client.wait_notifications("cust", 1)
    assert got[0]["id"] == to_user and got[0]["content"] == "approved on A"
    # B's answer crossed back: A marks it Delivered, not merely Sent.
    assert a.wait_status(to_user, service, ["Delivered"])["status"] == "Delivered"

    # Group sends cross too.
    to_branch = send_inapp(a, service, "branch:X", "branch X on A")
    assert client.wait_notifications("staff", 1)[0]["id"] == to_branch
    assert a.wait_status(to_branch, service, ["Delivered"])

    # Nobody anywhere: Sent, and it waits in the inbox.
    nobody = send_inapp(a, service, "cust-offline", "nobody")
    assert a.wait_status(nobody, service, ["Sent"])["status"] == "Sent"
    assert client.notifications("cust") == got[:1]


def test_rate_limit_buckets_are_shared(redis_server):
    # 0.2 tokens/s with a burst of 4: two separate buckets would allow 8 of these requests.
    a, b = start_pair(redis_server, COMMS_RATE_LIMIT="0.2,4", COMMS_RATE_LIMIT_STORE="redis")
    try:
        codes = [(a if i % 2 else b).request("GET", "/health/live").status_code for i in range(12)]
        assert set(codes) <= {200, 429}
        assert codes.count(200) <= 4, codes
        assert codes[-1] == 429 and codes[-2] == 429, codes
        assert redis_server.cli("--scan", "--pattern", "*rl:*").split()
    finally:
        a.stop()
        b.stop()


def test_client_rate_limit_buckets_are_shared(redis_server):
    # Per token subject, 0.2 tokens/s with a burst of 4, kept in Redis: one bucket for both instances.
    a, b = start_pair(redis_server, COMMS_RATE_LIMIT="0", COMMS_CLIENT_RATE_LIMIT="0.2,4",
                      COMMS_RATE_LIMIT_STORE="redis")
    try:
        mine = a.token("cust-rl", "customer")
        path = "/api/v1/notifications?recipientId=cust-rl"
        codes = [(a if i % 2 else b).request("GET", path, mine).status_code for i in range(10)]
        assert set(codes) <= {200, 429}
        assert codes.count(200) <= 4, codes
        assert codes[-1] == 429 and codes[-2] == 429, codes
        other = a.token("cust-other", "customer")
        assert b.request("GET", "/api/v1/notifications?recipientId=cust-other", other).status_code == 200
        assert redis_server.cli("--scan", "--pattern", "*rl:client:cust-rl").split()
    finally:
        a.stop()
        b.stop()


def test_redis_rate_limit_store_needs_redis():
    s = CommsServer(env={"COMMS_RATE_LIMIT_STORE": "redis"})
    r = s.cli("config")
    assert r.returncode == 2
    assert "COMMS_RATE_LIMIT_STORE" in r.stderr and "COMMS_REDIS" in r.stderr


@pytest.mark.parametrize("env,needle", [
    ({"COMMS_REDIS": "redis://:hunter2@cache:notaport"}, "COMMS_REDIS"),
    ({"COMMS_REDIS": "http://cache:6379"}, "COMMS_REDIS"),
    ({"COMMS_REDIS_TIMEOUT_MS": "0"}, "COMMS_REDIS_TIMEOUT_MS"),
    ({"COMMS_REDIS_PREFIX": ""}, "COMMS_REDIS_PREFIX"),
    ({"COMMS_RATE_LIMIT_STORE": "shared"}, "COMMS_RATE_LIMIT_STORE"),
])
def test_bad_redis_settings_are_configuration_errors(env, needle):
    r = CommsServer(env=env).cli("config")
    assert r.returncode == 2 and needle in r.stderr, r.stderr
    assert "hunter2" not in r.stderr


def test_the_redis_password_never_shows(peer_factory):
    from peers import Redis
    redis = peer_factory(Redis, password="s3cret-pw")
    s = CommsServer(env={"COMMS_REDIS": redis.url}).start()
    try:
        assert s.request("GET", "/health/ready").json()["redis"] == "ok"
        config = s.cli("config").stdout
        assert "s3cret-pw" not in config and "COMMS_REDIS=(set, hidden)" in config
    finally:
        s.stop()
    assert "s3cret-pw" not in s.log() and "redis://***@127.0.0.1" in s.log()
