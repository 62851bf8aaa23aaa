"""SMS providers through the real `comms` binary (issue 5): Africa's Talking against the
contract-faithful fake server, Kannel against a real bearerbox/smsbox/fakesmsc, delivery
reports, batching, the providers page and metrics, and what the service log must never hold.

The helpers at the top are shared by test_providers_resilience.py and test_providers_email.py.
"""
import os
import sys
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from comms_server import CommsServer  # noqa: E402

AT_CALLBACK_TOKEN = "at-callback-7f3c9d2e5b1a4c8e"
KANNEL_CALLBACK_TOKEN = "kannel-callback-4e8a1b6d2c9f"


def at_env(at, **over):
    env = {"COMMS_AT_USERNAME": at.username, "COMMS_AT_API_KEY": at.api_key,
           "COMMS_AT_BASE_URL": at.base_url, "COMMS_AT_SENDER_ID": "IFIN",
           "COMMS_AT_CALLBACK_TOKEN": AT_CALLBACK_TOKEN, "COMMS_PROVIDER_TIMEOUT_MS": "3000"}
    env.update(over)
    return env


def kannel_env(kannel, **over):
    env = {"COMMS_KANNEL_URL": kannel.sendsms_url.rsplit("/cgi-bin/", 1)[0],
           "COMMS_KANNEL_USERNAME": kannel.username, "COMMS_KANNEL_PASSWORD": kannel.password,
           "COMMS_KANNEL_FROM": "IntelliFin", "COMMS_PROVIDER_TIMEOUT_MS": "3000"}
    env.update(over)
    return env


def start(env):
    return wired(CommsServer(env=env).start())


def wired(srv):
    """Fails clearly while `comms serve` does not build the providers (docs/providers.md, Wiring)."""
    if srv.request("GET", "/api/v1/providers").status_code == 404:
        srv.stop()
        pytest.fail("comms serve does not wire the delivery providers (see docs/providers.md, 'Wiring')")
    return srv


def tokens_of(srv):
    return {"service": srv.token("loan-origination", "service"), "admin": srv.token("ops", "admin"),
            "customer": srv.token("cust-1", "customer")}


def send_sms(srv, token, to, text, recipient="cust-1"):
    r = srv.request("POST", "/api/v1/notifications", token,
                    {"recipientId": recipient, "channel": "sms", "to": to, "content": text})
    assert r.status_code == 202, r.text
    return r.json()["notificationId"]


def wait_all(srv, token, ids, statuses, timeout=60):
    return {i: srv.wait_status(i, token, statuses, timeout=timeout) for i in ids}


def providers_page(srv, token):
    r = srv.request("GET", "/api/v1/providers", token)
    assert r.status_code == 200, r.text
    return {p["name"]: p for p in r.json()["providers"]}


def assert_log_clean(srv, *secrets_, phones=()):
    log = srv.log()
    for s in secrets_:
        assert s and s not in log, f"secret {s[:4]}... appears in the service log"
    for p in phones:
        assert p not in log, f"unmasked phone number {p} appears in the service log"


def number(i, prefix="+26097"):
    return f"{prefix}{i:07d}"


# --- Africa's Talking ------------------------------------------------------------------------

@pytest.fixture
def at_server(fake_at):
    srv = start(at_env(fake_at))
    yield srv
    srv.stop()


def test_sms_via_africastalking_records_message_id_and_cost(at_server, fake_at):
    t = tokens_of(at_server)
    nid = send_sms(at_server, t["service"], "+260975550001", "Your loan of K5,000 is approved")
    n = at_server.wait_status(nid, t["admin"], {"Sent", "Delivered"})
    assert n["provider"] == "africastalking"
    msgs = fake_at.messages()
    assert len(msgs) == 1
    assert n["providerMessageId"] == msgs[0]["messageId"]
    assert n["cost"] == pytest.approx(0.25) and n["currency"] == "ZMW"
    assert msgs[0]["from"] == "IFIN"
    req = fake_at.requests()[0]
    assert req["content_type"] == "application/x-www-form-urlencoded"
    assert req["headers"]["apiKey"] == fake_at.api_key
    assert req["headers"]["Accept"] == "application/json"
    assert req["fields"]["username"] == fake_at.username
    assert_log_clean(at_server, fake_at.api_key, AT_CALLBACK_TOKEN, phones=["+260975550001"])


def test_permanent_failure_is_not_retried_nor_failed_over(fake_at, kannel):
    bad = "+260970000403"
    fake_at.configure(recipient_status={bad: 403})
    srv = start({**at_env(fake_at), **kannel_env(kannel)})
    try:
        t = tokens_of(srv)
        nid = send_sms(srv, t["service"], bad, "Permanent")
        n = srv.wait_status(nid, t["admin"], {"Failed"})
        assert n["lastError"] == "403 InvalidPhoneNumber"
        assert n["attempts"] == 1
        time.sleep(0.5)
        assert len(fake_at.requests()) == 1
        assert kannel.received() == []
    finally:
        srv.stop()


def test_bad_credentials_fail_permanently_and_raise_an_alert(fake_at):
    srv = start(at_env(fake_at, COMMS_AT_API_KEY="not-the-key-0123"))
    try:
        t = tokens_of(srv)
        nid = send_sms(srv, t["service"], "+260971234567", "x")
        n = srv.wait_status(nid, t["admin"], {"Failed"})
        assert n["lastError"].startswith("HTTP 401")
        page = providers_page(srv, t["admin"])
        assert page["africastalking"]["alerts"] == {"http_401_credentials": 1}
        metrics = srv.request("GET", "/metrics").text
        assert 'comms_provider_alerts_total{provider="africastalking",reason="http_401_credentials"} 1' in metrics
        assert_log_clean(srv, "not-the-key-0123")
    finally:
        srv.stop()


def test_identical_messages_are_batched(fake_at):
    srv = start(at_env(fake_at, COMMS_AT_BATCH_WINDOW_MS="1000"))
    try:
        t = tokens_of(srv)
        numbers = [number(i, "+26096") for i in range(12)]
        ids = [send_sms(srv, t["service"], n, "Branches close at 13:00 on Friday") for n in numbers]
        done = wait_all(srv, t["admin"], ids, {"Sent", "Delivered"})
        assert {n["provider"] for n in done.values()} == {"africastalking"}
        reqs = fake_at.requests()
        assert len(reqs) <= 3, [r["fields"]["to"] for r in reqs]
        sent_to = [x for r in reqs for x in r["fields"]["to"].split(",")]
        assert sorted(sent_to) == sorted(numbers)
        assert fake_at.stats()["duplicates"] == []
        assert len({n["providerMessageId"] for n in done.values()}) == 12
    finally:
        srv.stop()


def test_delivery_reports_update_history(fake_at):
    srv = start(at_env(fake_at))
    try:
        url = (f"{srv.base}/api/v1/callbacks/africastalking/delivery?"
               f"token={urllib.parse.quote(AT_CALLBACK_TOKEN)}")
        good, bad = "+260971111111", "+260962222222"
        fake_at.configure(dlr={"enabled": True, "callback_url": url, "delay_ms": 50,
                               "statuses": ["Submitted", "Buffered", "Success"],
                               "per_number": {bad: {"statuses": ["Sent", "Failed"],
                                                    "failureReason": "UserDoesNotExist"}}})
        t = tokens_of(srv)
        ok_id = send_sms(srv, t["service"], good, "Payment received", recipient="cust-1")
        bad_id = send_sms(srv, t["service"], bad, "Payment received 2", recipient="cust-1")
        delivered = srv.wait_status(ok_id, t["admin"], {"Delivered"}, timeout=30)
        failed = srv.wait_status(bad_id, t["admin"], {"Failed"}, timeout=30)
        assert delivered["deliveredAt"]
        assert failed["lastError"] == "Failed: UserDoesNotExist"
        # The history query (what a customer sees) shows the reported states.
        r = srv.request("GET", "/api/v1/notifications?recipientId=cust-1", t["customer"])
        states = {n["id"]: n["status"] for n in r.json()["items"]}
        assert states[ok_id] == "Delivered" and states[bad_id] == "Failed"
        dlrs = fake_at.dlrs()
        assert len(dlrs) == 5 and all(d["ok"] for d in dlrs), dlrs
        metrics = srv.request("GET", "/metrics").text
        assert 'comms_delivery_reports_total{provider="africastalking",meaning="progress"} 3' in metrics
        assert_log_clean(srv, AT_CALLBACK_TOKEN, fake_at.api_key, phones=[good, bad])
    finally:
        srv.stop()


def test_delivery_report_needs_the_token_and_tolerates_unknown_ids(at_server):
    path = "/api/v1/callbacks/africastalking/delivery"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = "id=ATXid_unknown&status=Success&phoneNumber=%2B260971234567&networkCode=64501"
    for query in ("", "?token=wrong", "?token=" + AT_CALLBACK_TOKEN[:-1]):
        r = at_server.request("POST", path + query, raw=body, headers=form)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "unauthorized"
    r = at_server.request("POST", f"{path}?token={AT_CALLBACK_TOKEN}", raw=body, headers=form)
    assert r.status_code == 200 and r.json()["matched"] is False
    r = at_server.request("POST", f"{path}?token={AT_CALLBACK_TOKEN}", raw="status=Success", headers=form)
    assert r.status_code == 400
    assert "delivery_report_unknown" in at_server.log()


def test_providers_page_and_metrics(at_server, fake_at):
    t = tokens_of(at_server)
    nid = send_sms(at_server, t["service"], "+260971234567", "Hello")
    at_server.wait_status(nid, t["admin"], {"Sent", "Delivered"})
    assert at_server.request("GET", "/api/v1/providers", t["service"]).status_code == 403
    page = providers_page(at_server, t["admin"])
    at = page["africastalking"]
    assert at["channel"] == "sms" and at["priority"] == 1
    assert at["breaker"]["state"] == "closed"
    assert at["sends"]["ok"] == 1
    assert at["cost"] == {"ZMW": 0.25}
    assert at["latency"]["count"] == 1
    metrics = at_server.request("GET", "/metrics").text
    assert 'comms_provider_breaker_state{provider="africastalking"} 0' in metrics
    assert 'comms_provider_sends_total{provider="africastalking",outcome="ok"} 1' in metrics
    assert 'comms_provider_cost_total{provider="africastalking",currency="ZMW"} 0.25' in metrics
    assert 'comms_provider_send_seconds_count{provider="africastalking"} 1' in metrics


# --- Kannel ----------------------------------------------------------------------------------

def test_sms_via_kannel_with_delivery_reports(kannel):
    srv = CommsServer(env={})  # picks its port first: Kannel must know where to call back
    srv.env.update(kannel_env(kannel, COMMS_KANNEL_DLR_URL=srv.base,
                              COMMS_KANNEL_CALLBACK_TOKEN=KANNEL_CALLBACK_TOKEN))
    wired(srv.start())
    try:
        t = tokens_of(srv)
        nid = send_sms(srv, t["service"], "+260977654321", "Kannel says hello")
        n = srv.wait_status(nid, t["admin"], {"Delivered"}, timeout=30)
        assert n["provider"] == "kannel" and n["providerMessageId"] == nid
        got = kannel.wait_for_received(1)
        assert got[0]["to"] == "+260977654321" and got[0]["text"] == "Kannel says hello"
        assert got[0]["from"] == "IntelliFin"
        # Failure types that fakesmsc never produces, through the same URL template.
        fail_id = send_sms(srv, t["service"], "+260977654322", "Second")
        srv.wait_status(fail_id, t["admin"], {"Sent", "Delivered"}, timeout=30)
        template = (f"{srv.base}/api/v1/callbacks/kannel/delivery?token={KANNEL_CALLBACK_TOKEN}"
                    f"&id={fail_id}&type=%d&reply=%A")
        code, _ = kannel.simulate_dlr(template, 16, reply="NACK/0x0000000b/Invalid Destination")
        assert code == 200
        n = srv.request("GET", f"/api/v1/notifications/{fail_id}", t["admin"]).json()
        if n["status"] == "Failed":  # a type-1 report may have won the race; both are valid ends
            assert n["lastError"] == "rejected by SMSC: NACK/0x0000000b/Invalid Destination"
        bad = template.replace(KANNEL_CALLBACK_TOKEN, "nope")
        assert kannel.simulate_dlr(bad, 1)[0] == 401
        assert_log_clean(srv, kannel.password, KANNEL_CALLBACK_TOKEN, phones=["+260977654321"])
    finally:
        srv.stop()


def test_kannel_unicode_text(kannel):
    srv = start(kannel_env(kannel))
    try:
        t = tokens_of(srv)
        nid = send_sms(srv, t["service"], "+260977000001", "Zikomo kwambiri ✓")
        srv.wait_status(nid, t["admin"], {"Sent", "Delivered"})
        got = kannel.wait_for_received(1)
        assert got[0]["type"] == "ucs-2" and got[0]["text"] == "Zikomo kwambiri ✓"
    finally:
        srv.stop()


def test_misconfiguration_is_one_line_naming_the_key(kannel, tmp_path):
    srv = CommsServer(env=kannel_env(kannel, COMMS_KANNEL_DLR_URL="http://127.0.0.1:1"))
    with pytest.raises(RuntimeError) as e:
        srv.start(timeout=10)
    assert "COMMS_KANNEL_CALLBACK_TOKEN" in str(e.value)
