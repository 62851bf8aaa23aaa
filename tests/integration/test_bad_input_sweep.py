"""Bad input, at volume: random and malformed requests to every route (issue 2, "Bad input").

Each request gets a JSON error naming the problem (never a 5xx), the process never crashes, and
what was accepted before the sweep is still there, delivered once. A fixed seed per run keeps a failure
reproducible: COMMS_TEST_SWEEP_SEED and COMMS_TEST_SWEEP_SECONDS override the defaults (1, 15 s).
"""
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from comms_server import CommsServer  # noqa: E402

SEED = int(os.environ.get("COMMS_TEST_SWEEP_SEED", "1"))
SECONDS = float(os.environ.get("COMMS_TEST_SWEEP_SECONDS", "15"))
R = random.Random(SEED)

KEYS = ["recipientId","channel","templateCategory","templateName","subject","content","personalization","to",
        "eventId","correlationId","locale","priority","critical","name","phone","email","language","timezone",
        "branchId","version","optOut","channels","categories","quietHours","start","end","type","message",
        "messageType","messageId","category","body","htmlBody","maxSegments","strict","sample","id","status",
        "notificationId","preferredLanguage","customerId","applicationId","amount","otpCode","userId",
        "SMSMessageData","phoneNumber","networkCode","failureReason","retryCount","active"]
def val(d=0):
    c = R.randrange(12 if d < 4 else 8)
    if c == 0: return None
    if c == 1: return R.choice([True, False])
    if c == 2: return R.choice([0, -1, 1, 2**53, -2**63, 2**64, 1e308, -0.0, 3.5, 10**30])
    if c == 3: return R.choice(["", "x", "sms", "email", "inapp", "en", "bem", "+260971234567", "0971234567",
                                "a@b.co", "{{#x}}", "{{/x}}", "{{", "\u0000", "\ud7ff"*3, "é"*300, "2026-13-45",
                                "2026-11-27T10:00:00Z", "Africa/Lusaka", "Mars/Base", "*", "../../etc", "%00"])
    if c == 4: return "y" * R.choice([1, 100, 5000, 70000])
    if c == 5: return R.choice(["sms", "email", "inapp", "fax"])
    if c == 6: return R.randrange(-5, 100)
    if c == 7: return str(R.random())
    if c in (8, 9): return {R.choice(KEYS) if R.random() < .8 else "k%d" % R.randrange(9): val(d+1) for _ in range(R.randrange(6))}
    return [val(d+1) for _ in range(R.randrange(5))]
def body():
    c = R.randrange(10)
    if c == 0: return b""
    if c == 1: return b"{" * R.randrange(1, 3000)
    if c == 2: return bytes(R.randrange(256) for _ in range(R.randrange(200)))
    if c == 3: return json.dumps(val()).encode()
    return json.dumps({R.choice(KEYS): val() for _ in range(R.randrange(1, 9))}).encode()
ROUTES = [("POST","/api/v1/notifications"),("GET","/api/v1/notifications"),("GET","/api/v1/notifications/{id}"),
          ("POST","/api/v1/notifications/{id}/retry"),("POST","/api/v1/notifications/{id}/cancel"),
          ("PUT","/api/v1/recipients/{id}"),("GET","/api/v1/recipients/{id}"),
          ("GET","/api/v1/recipients/{id}/preferences"),("PUT","/api/v1/recipients/{id}/preferences"),
          ("POST","/api/v1/events"),("GET","/api/v1/inbox"),("POST","/api/v1/inbox/{id}/read"),
          ("GET","/api/v1/dev-inbox"),("GET","/api/v1/providers"),("GET","/api/v1/workflows/{id}"),
          ("GET","/api/v1/templates"),("POST","/api/v1/templates"),("GET","/api/v1/templates/{id}"),
          ("PUT","/api/v1/templates/{id}"),("DELETE","/api/v1/templates/{id}"),("GET","/api/v1/templates/{id}/versions"),
          ("POST","/api/v1/templates/{id}/versions/{v}/activate"),("POST","/api/v1/templates/preview"),
          ("POST","/api/v1/callbacks/africastalking/delivery"),("POST","/api/v1/callbacks/kannel/delivery"),
          ("GET","/api/v1/callbacks/kannel/delivery"),("POST","/hubs/notifications/negotiate"),("GET","/metrics")]
IDS = ["1", "x", "%2e%2e", "%00", "a"*300, "01a21c83-b7bd-743d-9cd6-541fb0d7e680", "-1", "99999999999999999999", "%ff%fe"]
QS = ["", "?page=0", "?page=-1&pageSize=1000", "?recipientId=x&channel=fax", "?from=garbage&to=2026-01-01",
      "?pageSize=abc", "?page=99999999999999999999", "?status=Nope", "?category=%00", "?locale=&channel=sms",
      "?negotiateVersion=7", "?x=1&x=2", "?" + "a=b&" * 500]


def test_random_requests_get_json_errors_and_lose_nothing():
    s = CommsServer(env={"COMMS_RATE_LIMIT": "0"}).start()
    try:
        tok = s.token("ops", "admin")
        accepted = []
        for i in range(5):
            r = s.request("POST", "/api/v1/notifications", tok,
                          {"recipientId": f"sweep-{i}", "channel": "sms", "to": "+260971234567",
                           "content": f"kept {i}"})
            assert r.status_code == 202, r.text
            accepted.append(r.json()["notificationId"])
        bad, n, statuses = [], 0, {}
        t0 = time.time()
        while time.time() - t0 < SECONDS:
            m, p = R.choice(ROUTES)
            p = p.replace("{id}", R.choice(IDS)).replace("{v}", R.choice(["1", "0", "-3", "x"])) + R.choice(QS)
            hdr = {"Content-Type": R.choice(["application/json", "text/plain", "application/x-www-form-urlencoded"])}
            if R.random() < .3:
                hdr["If-Match"] = R.choice(['"1"', "W/x", "", '"99999999999999999999"'])
            if R.random() < .2:
                hdr["Idempotency-Key"] = R.choice(["k", "", "z" * 300])
            r = s.request(m, p, tok, raw=body(), headers=hdr)
            n += 1
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if r.status_code >= 500:
                bad.append((m, p[:100], r.status_code, r.text[:200]))
            elif r.status_code >= 400:
                try:
                    e = r.json()["error"]
                    assert set(e) == {"code", "message", "requestId"} and e["message"]
                except Exception:
                    bad.append((m, p[:100], r.status_code, "not the error shape: " + r.text[:200]))
        assert s.proc.poll() is None, "the server died"
        assert not bad, f"{len(bad)} of {n} requests (seed {SEED}): {bad[:5]}"
        assert sum(v for k, v in statuses.items() if k >= 400) > n / 2, statuses  # it did send bad input
        for nid in accepted:
            got = s.wait_status(nid, tok, {"Delivered"})
            assert got["content"].startswith("kept ")
        inbox, page = [], 1
        while True:
            items = s.request("GET", f"/api/v1/dev-inbox?pageSize=500&page={page}", tok).json()["items"]
            if not items:
                break
            inbox += items
            page += 1
        for nid in accepted:
            assert sum(1 for m in inbox if m["notificationId"] == nid) == 1
    finally:
        s.stop()
