"""Event intake through the real `comms` binary (issue 4): every catalogue event posted to
POST /api/v1/events, the inbox (duplicates), envelopes, bad payloads, the recipient directory,
and the OTP code that must never reach the database or the log.

The helpers at the top are shared by test_preferences.py and test_workflows.py.
"""
import glob
import json
import os
import sqlite3
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from comms_server import CommsServer  # noqa: E402

PHONE = "+260971234567"
FAST = {"COMMS_POLL": "100", "COMMS_OUTBOX_POLL": "100", "COMMS_RETRY_BASE": "50"}


def start(env=None, data_dir=None):
    e = dict(FAST)
    e.update(env or {})
    srv = CommsServer(env=e, data_dir=data_dir).start()
    if srv.request("POST", "/api/v1/events", srv.token("probe", "service"), {}).status_code == 404:
        srv.stop()
        pytest.fail("comms serve does not wire intake (see the report/docs/rules.md: register_intake_routes)")
    return srv


def tokens_of(srv):
    return {"service": srv.token("loan-origination", "service"), "admin": srv.token("ops", "admin"),
            "customer": srv.token("cust-1", "customer"), "other": srv.token("cust-2", "customer"),
            "staff": srv.token("staff-9", "staff", branch="lusaka-01")}


def post_event(srv, token, type_, message, expect=202, **extra):
    body = {"type": type_, "message": message}
    body.update(extra)
    r = srv.request("POST", "/api/v1/events", token, body)
    assert r.status_code == expect, r.text
    return r.json()


def db_rows(srv, sql, *args):
    con = sqlite3.connect(f"file:{os.path.join(srv.data_dir, 'comms.db')}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def notification(srv, token, nid):
    r = srv.request("GET", f"/api/v1/notifications/{nid}", token)
    assert r.status_code == 200, r.text
    return r.json()


def wait_for(pred, timeout=20, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def customer(**over):
    m = {"customerId": "cust-1", "customerName": "Mwansa Banda", "customerPhone": PHONE,
         "customerEmail": "mwansa@example.com", "branchId": "lusaka-01"}
    m.update(over)
    return m


def catalogue():
    """One valid payload per catalogue event, and what the shipped rules make of it:
    [(recipient, channel, templateName)] created at once."""
    eid = lambda: str(uuid.uuid4())  # noqa: E731
    return [
        ("LoanApplicationCreated", dict(customer(), eventId=eid(), applicationId="APP-1", requestedAmount=15000,
                                        productType="Salary Advance"),
         [("cust-1", "sms", "application-received")]),
        ("LoanApplicationApproved", dict(customer(), eventId=eid(), applicationId="APP-1", loanId="L-1",
                                         approvedAmount=12000.5, termMonths=12),
         [("cust-1", "sms", "application-approved"), ("cust-1", "email", "application-approved")]),
        ("LoanApplicationRejected", dict(customer(), eventId=eid(), applicationId="APP-2", reason="Affordability"),
         [("cust-1", "sms", "application-rejected")]),
        ("LoanDisbursed", dict(customer(), eventId=eid(), loanId="L-1", disbursedAmount=12000,
                               disbursementDate="2026-03-02", accountNumber="0012345678"),
         [("cust-1", "sms", "loan-disbursed")]),
        ("RepaymentDue", dict(customer(), eventId=eid(), loanId="L-1", amountDue=1150, dueDate="2026-04-01",
                              installmentNumber=1),
         [("cust-1", "inapp", "repayment-due")]),
        ("PaymentReceived", dict(customer(), eventId=eid(), paymentId="P-1", loanId="L-1", amount=1150,
                                 paymentDate="2026-04-01T09:30:00+02:00", receiptNumber="R-77"),
         [("cust-1", "sms", "payment-received")]),
        ("PaymentOverdue", dict(customer(), eventId=eid(), loanId="L-1", amountOverdue=1150,
                                dueDate="2026-04-01", daysOverdue=5),
         [("cust-1", "sms", "payment-overdue"), ("branch:lusaka-01", "inapp", "payment-overdue-staff")]),
        ("OtpRequested", dict(eventId=eid(), userId="cust-1", otpCode="918273", purpose="login", phone=PHONE),
         [("cust-1", "sms", "otp")]),
        ("PasswordResetRequested", dict(eventId=eid(), userId="cust-1", resetToken="R3set-T0ken-42",
                                        email="mwansa@example.com"),
         [("cust-1", "email", "password-reset")]),
        ("UserRegistered", dict(eventId=eid(), userId="staff-7", fullName="Chilufya Phiri", role="LoanOfficer",
                                branchId="lusaka-01", email="chilufya@intellifin.example", phone="0977123456"),
         [("staff-7", "email", "welcome")]),
        ("ClientCreated", dict(eventId=eid(), clientId="c-100", firstName="Chanda", lastName="Mulenga",
                               phone="0966000100", email="chanda@example.com", preferredLanguage="bem"), []),
        ("ClientContactUpdated", dict(eventId=eid(), clientId="c-100", phone="+260955000100"), []),
    ]


# --- tests -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def srv():
    s = start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tokens(srv):
    return tokens_of(srv)


@pytest.mark.parametrize("type_,message,expected", catalogue(), ids=[c[0] for c in catalogue()])
def test_every_catalogue_event_produces_its_notifications(srv, tokens, type_, message, expected):
    body = post_event(srv, tokens["service"], type_, message)
    assert body["type"] == type_ and body["eventId"] == message["eventId"] and not body["duplicate"]
    got = sorted((n["recipientId"], n["channel"], n["templateName"]) for n in body["notifications"])
    assert got == sorted(expected), body
    assert body["skipped"] == []
    for n in body["notifications"]:
        row = notification(srv, tokens["admin"], n["id"])
        assert row["eventId"] == message["eventId"]
        assert row["templateCategory"] and row["templateName"] == n["templateName"]
        (pers,) = db_rows(srv, "SELECT personalization FROM notifications WHERE id = ?", n["id"])[0]
        pers = json.loads(pers)
        assert pers["eventId"] == message["eventId"]
        for k, v in message.items():  # catalogued fields arrive under their camelCase names
            if k not in ("otpCode", "resetToken", "customerPhone", "phone"):
                assert pers[k] == v, (k, pers)
        # The fallback text is dispatched (SMS and email: the dev inbox; in-app: the dev inbox or the hub,
        # which leaves it Sent in the user's inbox when nobody is connected).
        done = srv.wait_status(n["id"], tokens["admin"], {"Sent", "Delivered", "Failed"})
        assert done["status"] == "Delivered" or (n["channel"] == "inapp" and done["status"] == "Sent"), done


def test_payload_names_are_case_insensitive_and_the_envelope_form_works(srv, tokens):
    msg_id = str(uuid.uuid4())
    envelope = {
        "messageId": msg_id, "correlationId": str(uuid.uuid4()), "conversationId": str(uuid.uuid4()),
        "sourceAddress": "rabbitmq://localhost/collections", "destinationAddress": "rabbitmq://localhost/communications",
        "messageType": ["urn:message:IntelliFin.Contracts:PaymentReceived"],
        "message": {"PAYMENTID": "P-9", "LoanId": "L-9", "customerid": "cust-1", "Amount": "250.75",
                    "paymentDate": "2026-04-02T10:00:00Z", "BranchId": "lusaka-01", "CustomerName": "Mwansa",
                    "CustomerPhone": "0971234567", "unknownField": "ignored"},
        "sentTime": "2026-04-02T10:00:01Z", "headers": {}, "host": {"machineName": "collections-1"},
    }
    r = srv.request("POST", "/api/v1/events", tokens["service"], envelope)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["eventId"] == msg_id  # no eventId in the payload: the messageId is the inbox key
    assert body["correlationId"] == envelope["correlationId"]
    (n,) = body["notifications"]
    row = notification(srv, tokens["admin"], n["id"])
    assert row["to"] == PHONE and row["correlationId"] == envelope["correlationId"]
    # The rules' fallback text until dispatch, then the default template (money helper: "K 250.75").
    assert row["content"].startswith("Dear Mwansa, we received ") and "250.75 for loan L-9" in row["content"]
    (pers,) = db_rows(srv, "SELECT personalization FROM notifications WHERE id = ?", n["id"])[0]
    assert "unknownField" not in pers and json.loads(pers)["paymentId"] == "P-9"
    r = srv.request("POST", "/api/v1/events", tokens["service"], envelope)
    assert r.status_code == 200 and r.json()["duplicate"] is True


def test_a_duplicate_event_creates_nothing_new(srv, tokens):
    message = dict(customer(), eventId=str(uuid.uuid4()), paymentId="P-2", loanId="L-2", amount=10,
                   paymentDate="2026-04-01T09:30:00Z")
    first = post_event(srv, tokens["service"], "PaymentReceived", message)
    assert len(first["notifications"]) == 1
    before = db_rows(srv, "SELECT COUNT(*) FROM notifications")[0][0]
    for _ in range(3):  # redelivered / republished with other message ids
        again = post_event(srv, tokens["service"], "PaymentReceived", message, expect=200,
                           messageId=str(uuid.uuid4()))
        assert again["duplicate"] is True and again["notifications"] == []
    assert db_rows(srv, "SELECT COUNT(*) FROM notifications")[0][0] == before
    assert db_rows(srv, "SELECT COUNT(*) FROM processed_events WHERE event_id = ?", message["eventId"])[0][0] == 1


@pytest.mark.parametrize("body,code,needle", [
    ({"type": "LoanExploded", "message": {}}, "unknown_event_type", "LoanExploded"),
    ({"type": "PaymentOverdue", "message": dict(customer(), eventId="e1", loanId="L", amountOverdue=5,
                                                dueDate="31/03/2026", daysOverdue=3)},
     "invalid_event", "field 'dueDate'"),
    ({"type": "LoanApplicationCreated", "message": {"eventId": "e2", "applicationId": "A"}},
     "invalid_event", "fields 'customerId', 'requestedAmount', 'productType', 'branchId', 'customerName' are missing"),
    ({"type": "OtpRequested", "message": {"eventId": "e3", "userId": "u", "otpCode": ["55"], "purpose": "x"}},
     "invalid_event", "field 'otpCode' must be a string"),
    ({"type": "PaymentReceived"}, "invalid_request", "'message'"),
    ({"messageType": ["not-a-urn"], "message": {}}, "invalid_envelope", "messageType"),
])
def test_bad_events_are_400_naming_the_field_and_store_nothing(srv, tokens, body, code, needle):
    before = db_rows(srv, "SELECT COUNT(*) FROM processed_events")[0][0]
    r = srv.request("POST", "/api/v1/events", tokens["service"], body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == code and needle in err["message"], err
    assert db_rows(srv, "SELECT COUNT(*) FROM processed_events")[0][0] == before
    assert srv.proc.poll() is None


def test_only_services_and_admins_post_events(srv, tokens):
    body = {"type": "ClientContactUpdated", "message": {"clientId": "c-x", "eventId": str(uuid.uuid4())}}
    assert srv.request("POST", "/api/v1/events", tokens["customer"], body).status_code == 403
    assert srv.request("POST", "/api/v1/events", tokens["staff"], body).status_code == 403
    assert srv.request("POST", "/api/v1/events", None, body).status_code == 401
    assert srv.request("POST", "/api/v1/events", tokens["admin"], body).status_code == 202


def test_client_events_keep_the_directory_current(srv, tokens):
    cid = "client-" + uuid.uuid4().hex[:8]
    post_event(srv, tokens["service"], "ClientCreated",
               {"eventId": str(uuid.uuid4()), "clientId": cid, "firstName": "Bupe", "lastName": "Zulu",
                "phone": "0977000200", "email": "bupe@example.com", "preferredLanguage": "ny",
                "branchId": "kitwe-03", "eventTimestamp": "2026-03-01T08:00:00Z"})
    r = srv.request("GET", f"/api/v1/recipients/{cid}", tokens["admin"]).json()
    assert (r["name"], r["phone"], r["email"], r["language"], r["branchId"]) == \
        ("Bupe Zulu", "+260977000200", "bupe@example.com", "ny", "kitwe-03")
    body = post_event(srv, tokens["service"], "ClientContactUpdated",
                      {"eventId": str(uuid.uuid4()), "clientId": cid, "phone": "+260966000201",
                       "eventTimestamp": "2026-03-05T08:00:00Z"})
    assert body["directoryUpdated"] is True
    r = srv.request("GET", f"/api/v1/recipients/{cid}", tokens["admin"]).json()
    assert r["phone"] == "+260966000201" and r["email"] == "bupe@example.com"
    # A late, older update does not undo the newer one.
    body = post_event(srv, tokens["service"], "ClientContactUpdated",
                      {"eventId": str(uuid.uuid4()), "clientId": cid, "phone": "+260955000202",
                       "eventTimestamp": "2026-03-02T08:00:00Z"})
    assert body["directoryUpdated"] is False
    assert srv.request("GET", f"/api/v1/recipients/{cid}", tokens["admin"]).json()["phone"] == "+260966000201"
    # The directory now addresses loan events that carry no phone.
    loan = post_event(srv, tokens["service"], "LoanApplicationRejected",
                      {"eventId": str(uuid.uuid4()), "applicationId": "A-9", "customerId": cid,
                       "reason": "x", "branchId": "kitwe-03", "customerName": "Bupe Zulu"})
    (n,) = loan["notifications"]
    done = srv.wait_status(n["id"], tokens["admin"], {"Delivered", "Failed"})
    assert done["status"] == "Delivered"
    inbox = srv.request("GET", "/api/v1/dev-inbox?pageSize=500", tokens["admin"]).json()["items"]
    assert [m["to"] for m in inbox if m["notificationId"] == n["id"]] == ["+260966000201"]


def test_an_event_without_any_address_is_skipped_with_a_reason(srv, tokens):
    body = post_event(srv, tokens["service"], "LoanApplicationRejected",
                      {"eventId": str(uuid.uuid4()), "applicationId": "A-10", "customerId": "nobody-" + uuid.uuid4().hex,
                       "reason": "x", "branchId": "b", "customerName": "Nobody"})
    assert body["notifications"] == []
    assert [s["reason"] for s in body["skipped"]] == ["no_address"]


def test_otp_code_never_in_db_or_logs():
    code = str(uuid.uuid4().int % 900000 + 100000)
    token = "Tok-" + uuid.uuid4().hex
    srv = start()
    try:
        t = tokens_of(srv)
        body = post_event(srv, t["service"], "OtpRequested",
                          {"eventId": str(uuid.uuid4()), "userId": "cust-1", "otpCode": code, "purpose": "login",
                           "phone": PHONE})
        (n,) = body["notifications"]
        assert n["critical"] is True
        reset = post_event(srv, t["service"], "PasswordResetRequested",
                           {"eventId": str(uuid.uuid4()), "userId": "cust-1", "resetToken": token,
                            "email": "mwansa@example.com"})
        (m,) = reset["notifications"]
        for nid in (n["id"], m["id"]):
            done = srv.wait_status(nid, t["admin"], {"Delivered", "Failed"})
            assert done["status"] == "Delivered", done
        otp = notification(srv, t["admin"], n["id"])
        assert otp["content"] == "Your IntelliFin verification code is ******. Do not share it with anyone."
        history = srv.request("GET", "/api/v1/notifications?recipientId=cust-1&pageSize=100", t["customer"]).json()
        assert all(code not in json.dumps(x) for x in history["items"])
        inbox = srv.request("GET", "/api/v1/dev-inbox?pageSize=500", t["admin"]).json()["items"]
        assert [x["body"] for x in inbox if x["notificationId"] == n["id"]] == [otp["content"]]
        # A bad OTP payload's error does not echo the code either.
        r = srv.request("POST", "/api/v1/events", t["service"],
                        {"type": "OtpRequested", "message": {"eventId": "x", "otpCode": code, "purpose": "p"}})
        assert r.status_code == 400 and code not in r.text
    finally:
        srv.stop()
    files = glob.glob(os.path.join(srv.data_dir, "comms.db*")) + [srv.log_path]
    assert any(f.endswith("comms.db") for f in files)
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        assert code.encode() not in data, f"OTP code found in {f}"
        assert token.encode() not in data, f"reset token found in {f}"


def test_a_bad_rules_file_stops_start_up_naming_the_rule(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"events": {"OtpRequested": {"notifications": [
        {"template": {"category": "otp", "name": "otp"}, "channels": ["sms", "fax"], "recipients": ["customer"]}]}}}))
    srv = CommsServer(env={"COMMS_RULES_FILE": str(rules)})
    r = srv.cli("serve")
    assert r.returncode == 2, r
    assert f"{rules}: events.OtpRequested.notifications[0].channels[1]: unknown channel 'fax'" in r.stderr
