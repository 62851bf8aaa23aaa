"""Sagas through the real `comms` binary and the in-process bus (issue 4): the application workflow
(customer SMS -> NotificationSent -> branch staff in-app -> Completed), its history endpoint,
concurrency, and the escalation workflow's durable timer, across a restart."""
import os
import sqlite3
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_events import customer, post_event, srv, start, tokens, tokens_of, wait_for  # noqa: E402,F401 (fixtures)


def workflow(srv, token, correlation_id):
    r = srv.request("GET", f"/api/v1/workflows/{correlation_id}", token)
    return r.json() if r.status_code == 200 else None


def created_event(app="APP-1", **over):
    m = dict(customer(), eventId=str(uuid.uuid4()), applicationId=app, requestedAmount=15000,
             productType="Salary Advance")
    m.update(over)
    return m


def notifications_of(srv, token, recipient):
    r = srv.request("GET", f"/api/v1/notifications?recipientId={recipient}&pageSize=100", token)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_application_saga_steps_and_history(srv, tokens):
    corr = str(uuid.uuid4())
    branch = "branch-" + uuid.uuid4().hex[:6]
    body = post_event(srv, tokens["service"], "LoanApplicationCreated", created_event(branchId=branch),
                      correlationId=corr)
    assert body["workflow"] == {"name": "notification-workflow", "state": "AwaitingCustomerSent", "started": True}
    (sms,) = body["notifications"]
    assert sms["channel"] == "sms" and sms["templateName"] == "application-received"

    w = wait_for(lambda: (lambda x: x if x and x["currentState"] == "Completed" else None)(
        workflow(srv, tokens["admin"], corr)), what="the saga to complete")
    assert w["workflow"] == "notification-workflow" and w["eventType"] == "LoanApplicationCreated"
    assert w["flags"] == {"customerNotified": True, "staffNotified": True}
    assert w["completedAt"] and w["nextTimeoutAt"] is None and w["version"] == 2
    assert w["steps"]["customer"] == [sms["id"]]
    (staff_id,) = w["steps"]["branch-staff"]
    assert [(h["fromState"], h["toState"], h["cause"]) for h in w["history"]] == [
        (None, "AwaitingCustomerSent", "LoanApplicationCreated"),
        ("AwaitingCustomerSent", "Completed", "NotificationSent")]
    assert w["history"][1]["detail"]["notificationIds"] == [staff_id]

    staff = notifications_of(srv, tokens["admin"], f"branch:{branch}")
    assert [(n["id"], n["channel"], n["templateName"], n["correlationId"]) for n in staff] == \
        [(staff_id, "inapp", "new-application", corr)]
    customer_sms = srv.request("GET", f"/api/v1/notifications/{sms['id']}", tokens["admin"]).json()
    assert customer_sms["status"] == "Delivered"
    staff_row = srv.request("GET", f"/api/v1/notifications/{staff_id}", tokens["admin"]).json()
    assert staff_row["createdAt"] >= customer_sms["sentAt"]  # the staff step followed the customer's Sent


def test_the_same_application_twice_starts_one_saga(srv, tokens):
    corr = str(uuid.uuid4())
    event = created_event("APP-2")
    post_event(srv, tokens["service"], "LoanApplicationCreated", event, correlationId=corr)
    dup = post_event(srv, tokens["service"], "LoanApplicationCreated", event, expect=200, correlationId=corr)
    assert dup["duplicate"] is True
    other = post_event(srv, tokens["service"], "LoanApplicationCreated", created_event("APP-2"), correlationId=corr)
    assert other["workflow"] == {"name": "notification-workflow", "state": None, "started": False}
    assert other["notifications"] == []
    wait_for(lambda: (workflow(srv, tokens["admin"], corr) or {}).get("currentState") == "Completed")
    time.sleep(0.5)
    w = workflow(srv, tokens["admin"], corr)
    assert len(w["history"]) == 2 and len(w["steps"]["branch-staff"]) == 1


def test_many_sagas_at_once_each_notify_staff_exactly_once(srv, tokens):
    branch = "branch-" + uuid.uuid4().hex[:6]
    corrs = [str(uuid.uuid4()) for _ in range(20)]
    for i, c in enumerate(corrs):
        post_event(srv, tokens["service"], "LoanApplicationCreated", created_event(f"APP-M{i}", branchId=branch),
                   correlationId=c)
    wait_for(lambda: all((workflow(srv, tokens["admin"], c) or {}).get("currentState") == "Completed"
                         for c in corrs), timeout=30, what="every saga to complete")
    time.sleep(0.5)
    staff = notifications_of(srv, tokens["admin"], f"branch:{branch}")
    assert sorted(n["correlationId"] for n in staff) == sorted(corrs)


def test_workflow_endpoint_access_and_404(srv, tokens):
    assert srv.request("GET", f"/api/v1/workflows/{uuid.uuid4()}", tokens["admin"]).status_code == 404
    assert srv.request("GET", f"/api/v1/workflows/{uuid.uuid4()}", tokens["customer"]).status_code == 403
    assert srv.request("GET", f"/api/v1/workflows/{uuid.uuid4()}", tokens["staff"]).status_code == 404


def repayment_due(recipient="cust-1"):
    return dict(customer(customerId=recipient), eventId=str(uuid.uuid4()), loanId="L-5", amountDue=750,
                dueDate="2026-04-01")


def test_escalation_sms_when_in_app_stays_unread_and_none_when_read():
    srv = start({"COMMS_ESCALATION_AFTER": "1500"})
    try:
        t = tokens_of(srv)
        unread, read = str(uuid.uuid4()), str(uuid.uuid4())
        r1, r2 = "esc-" + uuid.uuid4().hex[:6], "esc-" + uuid.uuid4().hex[:6]
        a = post_event(srv, t["service"], "RepaymentDue", repayment_due(r1), correlationId=unread)
        b = post_event(srv, t["service"], "RepaymentDue", repayment_due(r2), correlationId=read)
        assert a["workflow"]["state"] == "AwaitingRead" and [n["channel"] for n in a["notifications"]] == ["inapp"]
        w = workflow(srv, t["admin"], unread)
        assert w["nextTimeoutAt"] is not None
        # The second customer reads the in-app notification in time.
        con = sqlite3.connect(os.path.join(srv.data_dir, "comms.db"), timeout=10)
        con.execute("UPDATE notifications SET read_at = ? WHERE id = ?",
                    (int(time.time() * 1000), b["notifications"][0]["id"]))
        con.commit()
        con.close()
        done = lambda c: (lambda x: x if x and x["currentState"] == "Completed" else None)(  # noqa: E731
            workflow(srv, t["admin"], c))
        w1 = wait_for(lambda: done(unread), what="the escalation")
        assert w1["flags"] == {"read": False, "escalated": True}
        assert [h["cause"] for h in w1["history"]] == ["RepaymentDue", "Timeout"]
        assert sorted(n["channel"] for n in notifications_of(srv, t["admin"], r1)) == ["inapp", "sms"]
        w2 = wait_for(lambda: done(read), what="the read check")
        assert w2["flags"] == {"read": True, "escalated": False}
        assert [n["channel"] for n in notifications_of(srv, t["admin"], r2)] == ["inapp"]
    finally:
        srv.stop()


def test_the_escalation_timer_survives_a_restart():
    srv = start({"COMMS_ESCALATION_AFTER": "2000"})
    corr = str(uuid.uuid4())
    r = "esc-" + uuid.uuid4().hex[:6]
    try:
        t = tokens_of(srv)
        post_event(srv, t["service"], "RepaymentDue", repayment_due(r), correlationId=corr)
    finally:
        assert srv.stop() == 0
    time.sleep(2.5)  # the timeout passes while the service is down
    srv2 = start({"COMMS_ESCALATION_AFTER": "2000"}, data_dir=srv.data_dir)
    try:
        t = tokens_of(srv2)
        w = wait_for(lambda: (lambda x: x if x and x["currentState"] == "Completed" else None)(
            workflow(srv2, t["admin"], corr)), what="the escalation after restart")
        assert w["flags"]["escalated"] is True
        sms = [n for n in notifications_of(srv2, t["admin"], r) if n["channel"] == "sms"]
        assert len(sms) == 1
    finally:
        srv2.stop()
