"""Templates at dispatch (issue 3): the default set, locale fallback, helpers, import/export and the
segment limit, against the real `comms` binary with the dev inbox as the SMS provider."""
import filecmp
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from comms_server import CommsServer  # noqa: E402
from test_events import db_rows  # noqa: E402

DEFAULTS = os.path.join(os.path.dirname(__file__), "..", "..", "templates", "defaults")
PHONE = "+260971234567"
DUE = {"customerName": "Mwansa", "amountDue": 1250.5, "dueDate": "2026-03-15", "loanId": "LN-7"}


@pytest.fixture(scope="module")
def srv():
    s = CommsServer().start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tokens(srv):
    return {"service": srv.token("loan-origination", "service"), "admin": srv.token("ops-admin", "admin")}


def recipient(srv, tokens, language):
    rid = "cust-" + uuid.uuid4().hex[:8]
    r = srv.request("PUT", f"/api/v1/recipients/{rid}", tokens["service"],
                    {"name": "Mwansa Bwalya", "phone": PHONE, "language": language, "timezone": "Africa/Lusaka"})
    assert r.status_code in (200, 201), r.text
    return rid


def send_template(srv, tokens, rid, category, name, personalization, **over):
    body = {"recipientId": rid, "channel": "sms", "templateCategory": category, "templateName": name,
            "personalization": personalization}
    body.update(over)
    r = srv.request("POST", "/api/v1/notifications", tokens["service"], body)
    assert r.status_code == 202, r.text
    return r.json()["notificationId"]


def test_the_default_set_is_seeded_at_start(srv):
    rows = set(db_rows(srv, "SELECT category, name, channel, locale FROM templates"))
    files = [f for _, _, fs in os.walk(DEFAULTS) for f in fs if f.endswith(".json")]
    assert len(rows) == len(files) >= 20
    for key in [("collections", "repayment-due", "sms", "bem"), ("collections", "repayment-due", "sms", "ny"),
                ("otp", "otp", "sms", "en"), ("security", "password-reset", "email", "en"),
                ("loan-origination", "application-received", "sms", "en")]:
        assert key in rows
    assert db_rows(srv, "SELECT COUNT(*) FROM template_versions WHERE created_by = 'defaults'") == [(len(files),)]


def test_a_bemba_recipient_gets_the_bemba_text_with_money_and_date(srv, tokens):
    rid = recipient(srv, tokens, "bem")
    nid = send_template(srv, tokens, rid, "collections", "repayment-due", DUE)
    done = srv.wait_status(nid, tokens["admin"], {"Delivered", "Failed"})
    expected = ("Mwapoleni Mwansa, ukubwesha kwa K 1,250.50 pa nkongole LN-7 kulefwaikwa pa 15 Machi 2026. "
                "Natotela. IntelliFin")
    assert done["status"] == "Delivered", done
    assert done["content"] == expected
    history = srv.request("GET", f"/api/v1/notifications?recipientId={rid}", tokens["admin"]).json()["items"]
    assert [x["content"] for x in history] == [expected]
    inbox = srv.request("GET", "/api/v1/dev-inbox?pageSize=500", tokens["admin"]).json()["items"]
    assert [x["body"] for x in inbox if x["notificationId"] == nid] == [expected]


def test_an_unknown_locale_falls_back_to_english(srv, tokens):
    rid = recipient(srv, tokens, "bem")
    nid = send_template(srv, tokens, rid, "collections", "repayment-due", DUE, locale="fr-FR")
    done = srv.wait_status(nid, tokens["admin"], {"Delivered", "Failed"})
    assert done["status"] == "Delivered", done
    assert done["content"] == ("Dear Mwansa, your repayment of K 1,250.50 for loan LN-7 is due on 15 March 2026. "
                               "IntelliFin")


def test_a_template_missing_in_every_locale_fails_the_notification(srv, tokens):
    rid = recipient(srv, tokens, "ny")
    nid = send_template(srv, tokens, rid, "collections", "no-such-template", DUE)
    done = srv.wait_status(nid, tokens["admin"], {"Delivered", "Failed"})
    assert done["status"] == "Failed"
    assert done["lastError"] == "no template collections/no-such-template for sms in locale ny, en"


def test_export_import_round_trip_and_the_segment_limit(srv, tokens):
    work = tempfile.mkdtemp(prefix="comms-it-templates-")
    try:
        out = os.path.join(work, "export")
        r = srv.cli("templates", "export", out)
        assert r.returncode == 0, r.stderr
        # Export writes the same format the repository's defaults are kept in.
        cmp = filecmp.dircmp(DEFAULTS, out)
        assert not cmp.left_only and not cmp.right_only
        for sub in cmp.common_dirs:
            c = filecmp.dircmp(os.path.join(DEFAULTS, sub), os.path.join(out, sub))
            assert not c.left_only and not c.right_only and not c.diff_files, (sub, c.diff_files)

        r = srv.cli("templates", "import", out)
        assert r.returncode == 0, r.stderr
        assert "0 created, 0 updated" in r.stdout

        # A changed file becomes a new version; a new one is created.
        path = os.path.join(out, "otp", "otp.sms.ny.json")
        with open(path) as f:
            doc = json.load(f)
        doc["body"] = "IntelliFin: nambala yanu ndi {{otpCode}}."
        with open(path, "w") as f:
            json.dump(doc, f)
        with open(os.path.join(out, "long.json"), "w") as f:
            json.dump({"category": "tests", "name": "long-sms", "channel": "sms", "body": "{{text}}",
                       "maxSegments": 1}, f)
        r = srv.cli("templates", "import", out)
        assert r.returncode == 0, r.stderr
        assert "1 created, 1 updated" in r.stdout, r.stdout
        (versions,) = db_rows(srv, "SELECT latest_version FROM templates WHERE category='otp' AND locale='ny'")
        assert versions == (2,)

        # A bad file is refused as a whole, naming the file, line and column.
        with open(os.path.join(out, "bad.json"), "w") as f:
            f.write('{"category": "tests", "name": "bad", "channel": "sms",\n "body": "{{#open}}"}')
        r = srv.cli("templates", "import", out)
        assert r.returncode == 2
        assert "bad.json:2:2: field 'body' does not compile at 1:1: unclosed section" in r.stderr, r.stderr

        # The imported template is used by the running service; a render over its limit fails.
        rid = recipient(srv, tokens, "en")
        nid = send_template(srv, tokens, rid, "tests", "long-sms", {"text": "a" * 200})
        done = srv.wait_status(nid, tokens["admin"], {"Delivered", "Failed"})
        assert done["status"] == "Failed"
        assert done["lastError"] == ("rendered SMS takes 2 segments (GSM-7, 200 chars), template tests/long-sms "
                                     "(en) v1 allows 1")
        nid = send_template(srv, tokens, rid, "tests", "long-sms", {"text": "a" * 160})
        assert srv.wait_status(nid, tokens["admin"], {"Delivered", "Failed"})["status"] == "Delivered"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_a_deleted_default_is_not_recreated_on_restart():
    s = CommsServer().start()
    try:
        s.stop()
        con = sqlite3.connect(os.path.join(s.data_dir, "comms.db"))
        with con:
            (tid,) = con.execute("SELECT id FROM templates WHERE category='onboarding' AND name='welcome'").fetchone()
            con.execute("DELETE FROM template_versions WHERE template_id = ?", (tid,))
            con.execute("DELETE FROM templates WHERE id = ?", (tid,))
        con.close()
        s.start()
        assert db_rows(s, "SELECT id FROM templates WHERE category='onboarding' AND name='welcome'") == []
        r = s.cli("migrate")
        assert r.returncode == 0 and "0 created" in r.stdout, r.stdout
    finally:
        s.stop()


def test_an_otp_renders_in_bemba_with_the_code_masked_in_storage(srv, tokens):
    rid = recipient(srv, tokens, "bem")
    code = str(uuid.uuid4().int % 900000 + 100000)
    r = srv.request("POST", "/api/v1/events", tokens["service"],
                    {"type": "OtpRequested", "message": {"eventId": str(uuid.uuid4()), "userId": rid, "otpCode": code,
                                                         "purpose": "login", "expiryMinutes": 5}})
    assert r.status_code == 202, r.text
    (n,) = r.json()["notifications"]
    done = srv.wait_status(n["id"], tokens["admin"], {"Delivered", "Failed"})
    assert done["status"] == "Delivered", done
    assert done["content"] == ("Inambala yenu iya kushininkisha ku IntelliFin ni ******. Ilepwa mu maminiti 5. "
                               "Mwilaebako umuntu uli onse.")
    rows = db_rows(srv, "SELECT content, personalization FROM notifications WHERE id = ?", n["id"])
    assert rows and all(code not in col for col in rows[0])
    with open(srv.log_path, "rb") as f:
        assert code.encode() not in f.read()
