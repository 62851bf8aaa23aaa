"""Recipient preferences through the real `comms` binary (issue 4): the API, opt-out per channel and
category, quiet-hours deferral in the recipient's time zone, critical bypass, preferred language."""
import datetime as dt
import os
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_events import PHONE, customer, notification, post_event, srv, tokens  # noqa: E402,F401 (fixtures)


def rid():
    return "pref-" + uuid.uuid4().hex[:10]


def put(srv, token, recipient, body, expect=(200, 201)):
    r = srv.request("PUT", f"/api/v1/recipients/{recipient}/preferences", token, body)
    assert r.status_code in (expect if isinstance(expect, tuple) else (expect,)), r.text
    return r.json()


def payment(recipient):
    return dict(customer(customerId=recipient), eventId=str(uuid.uuid4()), paymentId="P", loanId="L-1",
                amount=100, paymentDate="2026-04-01T09:30:00Z")


def hhmm(zone_offset_hours, minutes_from_now):
    t = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=zone_offset_hours, minutes=minutes_from_now)
    return t.strftime("%H:%M")


def test_defaults_put_get_and_versions(srv, tokens):
    r = rid()
    got = srv.request("GET", f"/api/v1/recipients/{r}/preferences", tokens["admin"]).json()
    assert got == {"recipientId": r, "optOut": {"channels": [], "categories": []}, "quietHours": None,
                   "language": None, "updatedAt": None, "version": 0}
    body = {"optOut": {"channels": ["sms"], "categories": ["marketing"]},
            "quietHours": {"start": "21:00", "end": "07:00", "timezone": "Africa/Lusaka"}, "language": "bem"}
    r1 = srv.request("PUT", f"/api/v1/recipients/{r}/preferences", tokens["service"], body)
    assert r1.status_code == 201, r1.text
    assert r1.json()["version"] == 1
    got = srv.request("GET", f"/api/v1/recipients/{r}/preferences", tokens["admin"]).json()
    assert got["optOut"] == body["optOut"] and got["quietHours"] == body["quietHours"] and got["language"] == "bem"
    # A change is visible at once (the cached entry was dropped).
    r2 = put(srv, tokens["service"], r, {"optOut": {"channels": ["email"]}, "version": 1}, expect=200)
    assert r2["version"] == 2 and r2["quietHours"] is None
    got = srv.request("GET", f"/api/v1/recipients/{r}/preferences", tokens["admin"]).json()
    assert got["optOut"]["channels"] == ["email"] and got["version"] == 2
    stale = srv.request("PUT", f"/api/v1/recipients/{r}/preferences", tokens["service"], {"version": 1})
    assert stale.status_code == 409, stale.text


@pytest.mark.parametrize("body,needle", [
    ({"optOut": {"channels": ["fax"]}}, "optOut.channels"),
    ({"optOut": {"categories": ["Bad Category"]}}, "optOut.categories"),
    ({"optOut": {"colours": []}}, "optOut.colours"),
    ({"quietHours": {"start": "21:00"}}, "quietHours.end"),
    ({"quietHours": {"start": "25:00", "end": "07:00"}}, "quietHours.start"),
    ({"quietHours": {"start": "07:00", "end": "07:00"}}, "must differ"),
    ({"quietHours": {"start": "21:00", "end": "07:00", "timezone": "Mars/Base"}}, "quietHours.timezone"),
    ({"language": "english please"}, "language"),
    ({"mood": "happy"}, "mood"),
])
def test_invalid_preferences_are_400_naming_the_field(srv, tokens, body, needle):
    r = srv.request("PUT", f"/api/v1/recipients/{rid()}/preferences", tokens["service"], body)
    assert r.status_code == 400, r.text
    assert needle in r.json()["error"]["message"]


def test_who_may_read_and_write(srv, tokens):
    assert srv.request("GET", "/api/v1/recipients/cust-1/preferences", tokens["customer"]).status_code == 200
    assert srv.request("GET", "/api/v1/recipients/cust-1/preferences", tokens["other"]).status_code == 403
    assert srv.request("GET", "/api/v1/recipients/staff-9/preferences", tokens["staff"]).status_code == 200
    assert srv.request("PUT", "/api/v1/recipients/cust-1/preferences", tokens["customer"], {}).status_code == 403
    assert srv.request("PUT", "/api/v1/recipients/cust-1/preferences", tokens["admin"], {}).status_code in (200, 201)


def test_opt_out_per_channel_and_category(srv, tokens):
    r = rid()
    put(srv, tokens["service"], r, {"optOut": {"channels": ["sms"]}})
    body = post_event(srv, tokens["service"], "PaymentReceived", payment(r))
    assert body["notifications"] == []
    assert [(s["recipientId"], s["channel"], s["reason"]) for s in body["skipped"]] == \
        [(r, "sms", "channel_opted_out")]
    put(srv, tokens["service"], r, {"optOut": {"categories": ["collections"]}})
    body = post_event(srv, tokens["service"], "PaymentReceived", payment(r))
    assert [s["reason"] for s in body["skipped"]] == ["category_opted_out"]
    put(srv, tokens["service"], r, {})
    body = post_event(srv, tokens["service"], "PaymentReceived", payment(r))
    assert len(body["notifications"]) == 1


@pytest.mark.parametrize("zone,offset", [("Africa/Lusaka", 2), ("Asia/Kolkata", 5.5), ("UTC", 0)])
def test_quiet_hours_defer_to_the_end_of_the_period_in_the_recipients_zone(srv, tokens, zone, offset):
    r = rid()
    put(srv, tokens["service"], r, {"quietHours": {"start": hhmm(offset, -30), "end": hhmm(offset, 90),
                                                   "timezone": zone}, "language": "ny"})
    before = time.time()
    body = post_event(srv, tokens["service"], "PaymentReceived", payment(r))
    (n,) = body["notifications"]
    assert n["deferred"] is True and n["status"] == "Pending"
    not_before = dt.datetime.fromisoformat(n["notBefore"].replace("Z", "+00:00")).timestamp()
    assert before + 88 * 60 < not_before < before + 91 * 60, n  # the end of the quiet period, not dropped
    time.sleep(0.5)
    row = notification(srv, tokens["admin"], n["id"])
    assert row["status"] == "Pending" and row["locale"] == "ny"
    # Outside the quiet hours (the same wall-clock window in another zone), nothing is deferred.
    other = "Pacific/Kiritimati" if zone != "Pacific/Kiritimati" else "UTC"
    put(srv, tokens["service"], r, {"quietHours": {"start": hhmm(offset, -30), "end": hhmm(offset, 90),
                                                   "timezone": other}})
    body = post_event(srv, tokens["service"], "PaymentReceived", payment(r))
    assert body["notifications"][0]["deferred"] is False


def test_critical_notifications_bypass_opt_out_and_quiet_hours(srv, tokens):
    r = rid()
    put(srv, tokens["service"], r, {"optOut": {"channels": ["sms", "email"], "categories": ["otp", "arrears"]},
                                    "quietHours": {"start": hhmm(2, -60), "end": hhmm(2, 60),
                                                   "timezone": "Africa/Lusaka"}})
    otp = post_event(srv, tokens["service"], "OtpRequested",
                     {"eventId": str(uuid.uuid4()), "userId": r, "otpCode": "123987", "purpose": "login",
                      "phone": PHONE})
    (n,) = otp["notifications"]
    assert n["critical"] and not n["deferred"]
    assert srv.wait_status(n["id"], tokens["admin"], {"Delivered"})["status"] == "Delivered"
    # The statutory arrears notice (30+ days) is critical; the 5-day reminder is not.
    arrears = post_event(srv, tokens["service"], "PaymentOverdue",
                         dict(customer(customerId=r), eventId=str(uuid.uuid4()), loanId="L-1", amountOverdue=900,
                              dueDate="2026-02-01", daysOverdue=45))
    created = sorted((x["recipientId"], x["channel"], x["templateName"]) for x in arrears["notifications"])
    assert (r, "sms", "arrears-notice") in created and (r, "email", "arrears-notice") in created
    assert all(not x["deferred"] for x in arrears["notifications"] if x["recipientId"] == r)
    reminder = post_event(srv, tokens["service"], "PaymentOverdue",
                          dict(customer(customerId=r), eventId=str(uuid.uuid4()), loanId="L-1", amountOverdue=90,
                               dueDate="2026-03-25", daysOverdue=5))
    assert [x["recipientId"] for x in reminder["notifications"]] == ["branch:lusaka-01"]
    assert [s["reason"] for s in reminder["skipped"]] == ["channel_opted_out"]
