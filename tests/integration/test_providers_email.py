"""Email over SMTP through the real `comms` binary (issue 5), against aiosmtpd
(tests/peers/smtp_capture.py): the received message is parsed with Python's email package and
every header and part is checked; STARTTLS + AUTH; SMTP failures classified."""
import email.utils
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_providers import assert_log_clean, providers_page, start, tokens_of  # noqa: E402

FROM = "IntelliFin Loans <no-reply@intellifin.co.zm>"
REPLY_TO = "Customer Care <care@intellifin.co.zm>"


def smtp_env(smtp, **over):
    env = {"COMMS_SMTP_URL": f"{'smtps' if smtp.tls == 'implicit' else 'smtp'}://127.0.0.1:{smtp.port}",
           "COMMS_SMTP_FROM": FROM, "COMMS_SMTP_REPLY_TO": REPLY_TO, "COMMS_PROVIDER_TIMEOUT_MS": "5000"}
    env.update(over)
    return env


def send_email(srv, token, to, subject, content):
    r = srv.request("POST", "/api/v1/notifications", token,
                    {"recipientId": "cust-1", "channel": "email", "to": to, "subject": subject,
                     "content": content})
    assert r.status_code == 202, r.text
    return r.json()["notificationId"]


def check_headers(msg, nid, to, subject):
    assert msg["From"] == FROM
    assert msg["To"] == to
    assert msg["Reply-To"] == REPLY_TO
    assert msg["Subject"] == subject
    assert msg["Message-ID"] == f"<{nid}@intellifin.co.zm>"
    assert msg["MIME-Version"] == "1.0"
    assert msg["X-Notification-Id"] == nid
    sent = email.utils.parsedate_to_datetime(msg["Date"])
    assert sent.utcoffset().total_seconds() == 0
    for line in msg.as_bytes().split(b"\n"):
        assert len(line.rstrip(b"\r")) <= 78, line
    # Non-ASCII header text travels as RFC 2047 encoded words, never as raw 8-bit bytes.
    raw_headers = msg.as_bytes().split(b"\n\n", 1)[0]
    assert all(b < 0x80 for b in raw_headers)


def test_email_mime_structure(smtp):
    srv = start(smtp_env(smtp))
    try:
        t = tokens_of(srv)
        subject = "Malipiro anu alandiridwa — zikomo kwambiri! Ndalama: K 1 250,00 ✓"
        content = ("Dear Mwansa,\n\nWe received your payment of K1,250.00 = thank you.\n"
                   ".This line starts with a dot\n" + "x" * 200 + "\nZikomo ✓\n")
        nid = send_email(srv, t["service"], "mwansa@example.com", subject, content)
        n = srv.wait_status(nid, t["admin"], {"Sent", "Delivered"})
        assert n["provider"] == "smtp" and n["providerMessageId"] == f"{nid}@intellifin.co.zm"
        [got] = smtp.wait_for_messages(1)
        assert got["mail_from"] == "no-reply@intellifin.co.zm"
        assert got["rcpt_tos"] == ["mwansa@example.com"]
        msg = got["message"]
        check_headers(msg, nid, "mwansa@example.com", subject)
        assert b"=?UTF-8?B?" in got["raw"]
        if msg.is_multipart():  # a renderer that supplies HTML gets multipart/alternative
            assert msg.get_content_type() == "multipart/alternative"
            parts = list(msg.iter_parts())
            assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
            text_part = parts[0]
        else:
            text_part = msg
        assert text_part.get_content_type() == "text/plain"
        assert text_part.get_content_charset() == "utf-8"
        assert text_part["Content-Transfer-Encoding"] == "quoted-printable"
        assert text_part.get_content().replace("\r\n", "\n") == content
    finally:
        srv.stop()


def test_email_over_starttls_with_auth_reuses_the_session(smtp_secure):
    srv = start(smtp_env(smtp_secure, COMMS_SMTP_USERNAME=smtp_secure.user,
                         COMMS_SMTP_PASSWORD=smtp_secure.password, COMMS_SMTP_STARTTLS="required",
                         COMMS_SMTP_CA_FILE=str(smtp_secure.cert_file)))
    try:
        t = tokens_of(srv)
        ids = [send_email(srv, t["service"], f"c{i}@example.com", f"Statement {i}", "Ready.")
               for i in range(3)]
        for nid in ids:
            srv.wait_status(nid, t["admin"], {"Sent", "Delivered"})
        got = smtp_secure.wait_for_messages(3)
        assert all(m["tls"] and m["auth_login"] == smtp_secure.user for m in got)
        assert_log_clean(srv, smtp_secure.password)
    finally:
        srv.stop()


def test_smtp_rejections_are_classified(smtp):
    smtp.set_behaviour(rcpt_codes={"gone@example.com": "550 5.1.1 No such user"},
                       data_code=None)
    srv = start(smtp_env(smtp, COMMS_RETRY_BASE="50"))
    try:
        t = tokens_of(srv)
        gone = send_email(srv, t["service"], "gone@example.com", "Hi", "x")
        n = srv.wait_status(gone, t["admin"], {"Failed"})
        assert n["attempts"] == 1 and "550" in n["lastError"]
        smtp.set_behaviour(mail_code="451 4.3.0 Try again later")
        later = send_email(srv, t["service"], "ok@example.com", "Hi", "y")
        deadline = time.time() + 10
        while not (n := srv.request("GET", f"/api/v1/notifications/{later}", t["admin"]).json())["lastError"]:
            assert time.time() < deadline, n
            time.sleep(0.05)
        assert "451" in n["lastError"] and n["status"] in ("Pending", "Sending"), n
        smtp.set_behaviour()
        n = srv.wait_status(later, t["admin"], {"Sent", "Delivered"}, timeout=30)
        assert n["attempts"] >= 2
        page = providers_page(srv, t["admin"])["smtp"]
        assert page["sends"]["rejected"] == 1 and page["sends"]["unavailable"] >= 1
    finally:
        srv.stop()


@pytest.mark.parametrize("starttls", ["off"])
def test_plain_smtp_without_starttls(smtp, starttls):
    srv = start(smtp_env(smtp, COMMS_SMTP_STARTTLS=starttls))
    try:
        t = tokens_of(srv)
        nid = send_email(srv, t["service"], "plain@example.com", "Plain", "Plain text.")
        srv.wait_status(nid, t["admin"], {"Sent", "Delivered"})
        [got] = smtp.wait_for_messages(1)
        assert not got["tls"]
    finally:
        srv.stop()
