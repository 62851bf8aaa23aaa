"""Routing and resilience through the real `comms` binary (issue 5): Africa's Talking (the fake
server) primary, Kannel (real bearerbox/smsbox/fakesmsc) secondary, per-provider circuit
breakers, retries only for transient failures, and no blind re-send after an ambiguous failure.
"""
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from test_providers import (at_env, kannel_env, number, providers_page, send_sms, start,  # noqa: E402
                            tokens_of, wait_all)

SENT = {"Sent", "Delivered"}


def kannel_counts(kannel):
    return collections.Counter((m["to"], m["text"]) for m in kannel.received())


def at_counts(fake_at):
    return collections.Counter((m["number"], m["message"]) for m in fake_at.messages())


def wait_breaker(srv, token, provider, state, timeout=20):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = providers_page(srv, token)[provider]["breaker"]
        if last["state"] == state:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{provider} breaker never became {state}: {last}")


def test_outage_then_errors_fail_over_to_kannel_and_the_breaker_recovers(fake_at, kannel):
    fake_at.configure(down=True)
    env = {**at_env(fake_at), **kannel_env(kannel), "COMMS_BREAKER_FAILURES": "5",
           "COMMS_BREAKER_OPEN_MS": "1500", "COMMS_PROVIDER_TIMEOUT_MS": "2000",
           "COMMS_AT_BATCH_WINDOW_MS": "0", "COMMS_MAX_ATTEMPTS": "8"}
    srv = start(env)
    try:
        t = tokens_of(srv)
        expected = {}  # notification id -> (number, text)

        def send_batch(label, count, offset):
            ids = []
            for i in range(count):
                to, text = number(offset + i), f"{label} notice {offset + i}"
                nid = send_sms(srv, t["service"], to, text)
                expected[nid] = (to, text)
                ids.append(nid)
            return ids

        # 1. Africa's Talking is down: the breaker opens and Kannel takes everything.
        phase1 = send_batch("outage", 20, 0)
        done = wait_all(srv, t["admin"], phase1, SENT)
        assert {n["provider"] for n in done.values()} == {"kannel"}
        at = providers_page(srv, t["admin"])["africastalking"]
        assert at["breaker"]["timesOpened"] >= 1, at
        assert at["sends"]["short_circuited"] >= 1, at
        attempts_at_at = fake_at.stats()["connections_refused"]
        assert attempts_at_at < 20, "an open breaker fails fast instead of calling the provider"

        # 2. Africa's Talking is back but fails 30% of requests.
        fake_at.configure(down=False, error_rate=0.3, error_status=500, seed=7)
        time.sleep(1.6)
        phase2 = send_batch("flaky", 40, 100)
        done2 = wait_all(srv, t["admin"], phase2, SENT)
        providers2 = collections.Counter(n["provider"] for n in done2.values())
        assert providers2["africastalking"] > 0 and sum(providers2.values()) == 40, providers2

        # 3. Recovery: the next probe succeeds and the breaker closes; AT carries the traffic again.
        fake_at.configure(error_rate=0.0)
        deadline = time.time() + 20
        while providers_page(srv, t["admin"])["africastalking"]["breaker"]["state"] != "closed":
            assert time.time() < deadline, "breaker never closed"
            nid = send_batch("probe", 1, 500 + len(expected))[0]
            srv.wait_status(nid, t["admin"], SENT)
            time.sleep(0.3)
        phase3 = send_batch("recovered", 10, 900)
        done3 = wait_all(srv, t["admin"], phase3, SENT)
        assert {n["provider"] for n in done3.values()} == {"africastalking"}
        wait_breaker(srv, t["admin"], "africastalking", "closed")

        # Nothing lost, nothing twice within a provider, each where the row says it went.
        kannel.wait_for_received(sum(1 for n in expected if srv.request(
            "GET", f"/api/v1/notifications/{n}", t["admin"]).json()["provider"] == "kannel"))
        at_seen, kannel_seen = at_counts(fake_at), kannel_counts(kannel)
        assert fake_at.stats()["duplicates"] == []
        assert max(kannel_seen.values()) == 1
        for nid, key in expected.items():
            n = srv.request("GET", f"/api/v1/notifications/{nid}", t["admin"]).json()
            assert n["status"] in SENT, n
            where = {"africastalking": at_seen[key], "kannel": kannel_seen[key]}
            assert where[n["provider"]] == 1, (n, where)
            # Errors here are definite (refused, HTTP 500), so nothing reached the other provider.
            assert sum(where.values()) == 1, (n, where)
        metrics = srv.request("GET", "/metrics").text
        assert 'comms_provider_breaker_state{provider="africastalking"} 0' in metrics
        assert 'comms_provider_failovers_total{provider="africastalking"}' in metrics
    finally:
        srv.stop()


def test_transient_errors_are_retried_with_backoff(fake_at):
    fake_at.configure(burst={"count": 2, "status": 503})
    srv = start(at_env(fake_at, COMMS_RETRY_BASE="100"))
    try:
        t = tokens_of(srv)
        nid = send_sms(srv, t["service"], "+260975550101", "Retry me")
        n = srv.wait_status(nid, t["admin"], SENT, timeout=30)
        assert n["attempts"] == 3 and n["provider"] == "africastalking"
        assert len(fake_at.requests()) == 3
        assert fake_at.count("+260975550101", "Retry me") == 1
    finally:
        srv.stop()


def test_an_ambiguous_timeout_is_never_resent_through_the_same_provider(fake_at):
    fake_at.configure(hang=True)
    srv = start(at_env(fake_at, COMMS_PROVIDER_TIMEOUT_MS="800", COMMS_MAX_ATTEMPTS="4"))
    try:
        t = tokens_of(srv)
        nid = send_sms(srv, t["service"], "+260975550202", "Maybe sent")
        n = srv.wait_status(nid, t["admin"], {"Failed"}, timeout=30)
        assert "not re-sent" in n["lastError"], n
        assert n["attempts"] == 1
        time.sleep(0.5)
        assert len(fake_at.requests()) == 1
        page = providers_page(srv, t["admin"])["africastalking"]
        assert page["sends"]["ambiguous"] == 1
        # An operator's re-drive sends it again, on purpose.
        fake_at.configure(hang=False)
        r = srv.request("POST", f"/api/v1/notifications/{nid}/retry", t["admin"])
        assert r.status_code == 200, r.text
        srv.wait_status(nid, t["admin"], SENT, timeout=30)
        assert fake_at.count("+260975550202", "Maybe sent") == 1
    finally:
        fake_at.configure(hang=False)
        srv.stop()


def test_ambiguous_primary_fails_over_once_to_the_secondary(fake_at, kannel):
    fake_at.configure(hang=True)
    srv = start({**at_env(fake_at, COMMS_PROVIDER_TIMEOUT_MS="800"), **kannel_env(kannel)})
    try:
        t = tokens_of(srv)
        nid = send_sms(srv, t["service"], "+260975550303", "Hung primary")
        n = srv.wait_status(nid, t["admin"], SENT, timeout=30)
        assert n["provider"] == "kannel"
        assert kannel_counts(kannel)[("+260975550303", "Hung primary")] == 1
        assert len(fake_at.requests()) == 1
    finally:
        fake_at.configure(hang=False)
        srv.stop()
