"""Proves every peer starts and works with a real client. Runs in well under two minutes.

/usr/bin/python3 -m pytest tests/integration/test_peers_smoke.py
"""

from __future__ import annotations

import http.client
import json
import os
import smtplib
import socket
import ssl
import subprocess
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import pytest

import peers


# -- RabbitMQ ---------------------------------------------------------------------------------
def test_rabbitmq_publish_consume_and_survive_restart(rabbitmq):
    import pika

    queue = f"smoke-{time.monotonic_ns()}"
    conn = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    ch = conn.channel()
    ch.queue_declare(queue, durable=True)
    ch.confirm_delivery()
    ch.basic_publish("", queue, b"before-restart",
                     pika.BasicProperties(delivery_mode=2, content_type="text/plain"))
    ch.basic_publish("", queue, b"consumed-now")
    method, props, body = ch.basic_get(queue, auto_ack=False)
    assert body == b"before-restart"
    ch.basic_nack(method.delivery_tag, requeue=True)
    conn.close()

    rabbitmq.restart()  # same port, node name and Mnesia dir: the durable message survives
    conn = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    ch = conn.channel()
    method, props, body = ch.basic_get(queue, auto_ack=True)
    assert body == b"before-restart"
    assert props.delivery_mode == 2
    conn.close()
    assert queue in rabbitmq.ctl("list_queues", "name", "--quiet")


def test_node_clients_load_and_amqplib_talks_to_rabbitmq(rabbitmq, node, node_modules):
    script = """
    const signalr = require('@microsoft/signalr');
    const amqp = require('amqplib');
    if (typeof signalr.HubConnectionBuilder !== 'function') throw new Error('no HubConnectionBuilder');
    (async () => {
      const conn = await amqp.connect(process.env.URL);
      const ch = await conn.createChannel();
      const q = await ch.assertQueue('', { exclusive: true });
      ch.sendToQueue(q.queue, Buffer.from('from-node'));
      let msg = null;
      for (let i = 0; i < 50 && !msg; i++) { msg = await ch.get(q.queue, { noAck: true });
        if (!msg) await new Promise(r => setTimeout(r, 50)); }
      console.log(JSON.stringify({ body: msg && msg.content.toString() }));
      await conn.close();
    })().catch(e => { console.error(e); process.exit(1); });
    """
    out = subprocess.run([node, "-e", script], cwd=node_modules.parent, capture_output=True,
                         text=True, timeout=60, env={"URL": rabbitmq.url, "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"body": "from-node"}


# -- PostgreSQL -------------------------------------------------------------------------------
def test_postgres_url_works_with_psycopg2(pg_url):
    import psycopg2

    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id serial PRIMARY KEY, v text NOT NULL)")
        cur.execute("INSERT INTO t (v) VALUES (%s), (%s)", ("a", "ümlaut"))
        cur.execute("SELECT v FROM t ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == ["a", "ümlaut"]
        cur.execute("SELECT current_user, inet_server_addr()::text")
        user, addr = cur.fetchone()
        assert user == "comms" and addr.startswith("127.0.0.1")


def test_postgres_restart_keeps_data_and_outage_is_visible(postgres_private):
    import psycopg2

    pg = postgres_private
    with psycopg2.connect(pg.url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE kept (v int)")
        cur.execute("INSERT INTO kept VALUES (42)")
    conn.close()
    pg.stop()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(pg.url, connect_timeout=2)
    pg.start()
    with psycopg2.connect(pg.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT v FROM kept")
        assert cur.fetchone() == (42,)
    conn.close()
    assert pg.psql("SELECT count(*) FROM pg_database WHERE datname = 'comms'").strip() == "1"


# -- Redis ------------------------------------------------------------------------------------
def test_redis_set_get_and_outage(redis_server):
    import redis

    r = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    r.set("k", "v")
    assert r.get("k") == b"v"
    assert redis_server.cli("GET", "k").strip() == "v"
    redis_server.stop()
    with pytest.raises(redis.exceptions.ConnectionError):
        r.get("k")
    redis_server.start()
    assert r.get("k") is None  # no persistence: a restart is an empty cache
    r.set("k", "again")
    assert r.get("k") == b"again"


# -- SMTP -------------------------------------------------------------------------------------
def _mail(to: str, subject: str = "Loan approved") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "IntelliFin <noreply@intellifin.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("Dear Mwila,\nyour loan of ZMW 5,000 was approved.\n")
    msg.add_alternative("<p>Dear Mwila, your loan of <b>ZMW 5,000</b> was approved.</p>",
                        subtype="html")
    return msg


def test_smtp_plain_capture(smtp):
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as s:
        s.send_message(_mail("mwila@example.zm"), from_addr="bounce@intellifin.test",
                       to_addrs=["mwila@example.zm", "cc@example.zm"])
    (m,) = smtp.wait_for_messages(1)
    assert m["mail_from"] == "bounce@intellifin.test"
    assert m["rcpt_tos"] == ["mwila@example.zm", "cc@example.zm"]
    assert m["tls"] is False and m["auth_login"] is None
    assert m["message"]["Subject"] == "Loan approved"
    assert "ZMW 5,000" in m["message"].get_body(("plain",)).get_content()
    assert m["raw"].startswith(b"Content-Type:") or b"Subject: Loan approved" in m["raw"]


def test_smtp_starttls_and_auth(smtp_secure):
    ctx = ssl.create_default_context(cafile=str(smtp_secure.cert_file))
    with smtplib.SMTP("127.0.0.1", smtp_secure.port, timeout=10) as s:
        s.ehlo()
        assert s.has_extn("starttls") and not s.has_extn("auth")  # AUTH only after TLS
        with pytest.raises(smtplib.SMTPException):
            s.sendmail("a@intellifin.test", ["b@example.zm"], b"Subject: x\r\n\r\nno tls\r\n")
    with smtplib.SMTP("127.0.0.1", smtp_secure.port, timeout=10) as s:
        s.starttls(context=ctx)
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(smtp_secure.user, "wrong-password")
    with smtplib.SMTP("127.0.0.1", smtp_secure.port, timeout=10) as s:
        s.starttls(context=ctx)
        with pytest.raises(smtplib.SMTPSenderRefused):  # 530 before AUTH
            s.sendmail("a@intellifin.test", ["b@example.zm"], b"Subject: x\r\n\r\nno auth\r\n")
    with smtplib.SMTP("127.0.0.1", smtp_secure.port, timeout=10) as s:
        s.starttls(context=ctx)
        s.login(smtp_secure.user, smtp_secure.password)
        s.send_message(_mail("chanda@example.zm", "Secure"))
    (m,) = smtp_secure.wait_for_messages(1)
    assert m["tls"] is True and m["auth_login"] == smtp_secure.user
    assert m["message"]["To"] == "chanda@example.zm" and m["message"]["Subject"] == "Secure"


def test_smtp_implicit_tls_and_failure_injection(peer_factory):
    smtp = peer_factory(peers.SmtpCapture, tls="implicit", auth=True)
    assert smtp.url.startswith("smtps://")
    ctx = ssl.create_default_context(cafile=str(smtp.cert_file))
    smtp.set_behaviour(rcpt_codes={"gone@example.zm": "550 5.1.1 No such user"})
    with smtplib.SMTP_SSL("127.0.0.1", smtp.port, context=ctx, timeout=10) as s:
        s.login(smtp.user, smtp.password)
        refused = s.sendmail("a@intellifin.test", ["gone@example.zm", "ok@example.zm"],
                             b"Subject: partial\r\n\r\nbody\r\n")
        assert refused == {"gone@example.zm": (550, b"5.1.1 No such user")}
    smtp.set_behaviour(data_code="451 4.3.0 Try again later")
    with smtplib.SMTP_SSL("127.0.0.1", smtp.port, context=ctx, timeout=10) as s:
        s.login(smtp.user, smtp.password)
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("a@intellifin.test", ["ok@example.zm"], b"Subject: t\r\n\r\nb\r\n")
        assert e.value.smtp_code == 451
    (m,) = smtp.messages()
    assert m["rcpt_tos"] == ["ok@example.zm"] and m["tls"] is True


# -- Kannel -----------------------------------------------------------------------------------
def test_kannel_sendsms_reaches_fakesmsc_with_dlrs(kannel, http_sink):
    dlr_url = f"{http_sink.url}/dlr?ref=n-1&type=%d&smsc_id=%F&ack=%A"
    code, body = kannel.sendsms("+260971234567", "Your OTP is 123456", from_="IntelliFin",
                                dlr_mask=31, dlr_url=dlr_url)
    assert (code, body) == (202, "0: Accepted for delivery")
    (got,) = kannel.wait_for_received(1)
    assert got["from"] == "IntelliFin" and got["to"] == "+260971234567"
    assert got["type"] == "text" and got["text"] == "Your OTP is 123456"
    # fakesmsc: bearerbox's SMSC-level ACK (type 8) and the fake SMSC's final "delivered" (1).
    reqs = http_sink.wait_for(2)
    time.sleep(0.5)
    types = sorted(r["query"]["type"][0] for r in http_sink.requests)
    assert types == ["1", "8"]
    assert all(r["query"]["ref"] == ["n-1"] for r in http_sink.requests)
    final = next(r for r in reqs if r["query"]["type"] == ["1"])
    assert final["query"]["smsc_id"][0]  # the SMSC message id (%F) is set on the final DLR
    # fakesmsc never reports failures: a test drives those through the same URL template.
    assert peers.Kannel.simulate_dlr(dlr_url, 2, foreign_id="abc")[0] == 200
    failed = http_sink.wait_for(3)[-1]["query"]
    assert failed["type"] == ["2"] and failed["ref"] == ["n-1"] and failed["smsc_id"] == ["abc"]


def test_kannel_unicode_auth_and_smsc_outage(kannel):
    code, body = kannel.sendsms("+260971234567", "Muli shani? Ж", coding=2, charset="UTF-8")
    assert body == "0: Accepted for delivery"
    (got,) = kannel.wait_for_received(1)
    assert got["type"] == "ucs-2" and got["text"] == "Muli shani? Ж"

    code, body = kannel.sendsms("+260971234567", "x", password="wrong")
    assert code == 403 and "Authorization failed" in body

    kannel.stop_smsc()
    code, body = kannel.sendsms("+260961234567", "queued while the SMSC is down")
    assert body == "3: Queued for later delivery"
    kannel.start_smsc()
    got = kannel.wait_for_received(2)
    assert got[-1]["text"] == "queued while the SMSC is down"


# -- fake Africa's Talking --------------------------------------------------------------------
def test_fake_at_success_contract(fake_at):
    code, body = fake_at.send(["+260971234567", "+260961234567"], "Your payment of ZMW 250 is due",
                              sender="IntelliFin")
    assert code == 201
    data = json.loads(body)
    assert set(data) == {"SMSMessageData"}
    assert data["SMSMessageData"]["Message"] == "Sent to 2/2 Total Cost: ZMW 0.5000"
    recips = data["SMSMessageData"]["Recipients"]
    assert [set(r) for r in recips] == [{"statusCode", "number", "status", "cost", "messageId"}] * 2
    assert recips[0]["statusCode"] == 101 and recips[0]["status"] == "Success"
    assert recips[0]["cost"] == "ZMW 0.2500" and recips[0]["messageId"].startswith("ATXid_")
    msgs = fake_at.messages()
    assert [m["number"] for m in msgs] == ["+260971234567", "+260961234567"]
    assert msgs[0]["messageId"] == recips[0]["messageId"] and msgs[0]["from"] == "IntelliFin"
    req = fake_at.requests()[0]
    assert req["content_type"] == "application/x-www-form-urlencoded"
    assert fake_at.count("+260971234567", "Your payment of ZMW 250 is due") == 1
    # XML when the client does not ask for JSON
    code, body = fake_at.send("+260971234567", "xml please", accept="*/*")
    assert code == 201 and body.startswith("<AfricasTalkingResponse>")


def test_fake_at_auth_validation_and_per_recipient_failures(fake_at):
    assert fake_at.send("+260971234567", "x", api_key="nope") == (
        401, "The supplied authentication is invalid")
    assert fake_at.send("+260971234567", "x", username="someone-else")[0] == 401
    code, body = fake_at.send("+260971234567", "")
    assert code == 400 and "message" in body
    fake_at.configure(force_401=True)
    assert fake_at.send("+260971234567", "x")[0] == 401
    fake_at.configure(force_401=False,
                      recipient_status={"+260971111111": 406, "+260972222222": 405})
    code, body = fake_at.send(["+260971111111", "+260972222222", "+260973333333", "12ab"], "hi")
    recips = json.loads(body)["SMSMessageData"]["Recipients"]
    assert [(r["statusCode"], r["status"]) for r in recips] == [
        (406, "UserInBlacklist"), (405, "InsufficientBalance"), (101, "Success"),
        (403, "InvalidPhoneNumber")]
    assert recips[0]["cost"] == "0" and recips[0]["messageId"] == "None"
    assert json.loads(body)["SMSMessageData"]["Message"] == "Sent to 1/4 Total Cost: ZMW 0.2500"
    fake_at.reset()
    fake_at.configure(fail_every_nth={"n": 2, "status_code": 500})
    _, body = fake_at.send(["+260971000001", "+260971000002", "+260971000003"], "nth")
    assert [r["statusCode"] for r in json.loads(body)["SMSMessageData"]["Recipients"]] == [
        101, 500, 101]


def test_fake_at_faults(fake_at):
    fake_at.configure(burst={"count": 2, "status": 503})
    assert [fake_at.send("+260971234567", f"b{i}")[0] for i in range(3)] == [503, 503, 201]
    fake_at.configure(error_rate=0.5, seed=7)
    codes = [fake_at.send("+260971234567", f"r{i}")[0] for i in range(20)]
    assert set(codes) == {201, 500} and 3 <= codes.count(500) <= 17
    fake_at.reset()

    fake_at.configure(delay_ms=400)
    t0 = time.monotonic()
    assert fake_at.send("+260971234567", "slow")[0] == 201
    assert time.monotonic() - t0 >= 0.4
    fake_at.configure(delay_ms=0, hang=True)
    with pytest.raises((socket.timeout, TimeoutError)):
        fake_at.send("+260971234567", "never answered", timeout=0.5)
    fake_at.configure(hang=False, hangup=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        fake_at.send("+260971234567", "hung up")
    fake_at.configure(hangup=False)
    kept = http.client.HTTPConnection("127.0.0.1", fake_at.port, timeout=5)
    kept.request("GET", "/version1/messaging")
    first = kept.getresponse()
    assert first.status == 405 and first.read()  # the connection stays open (keep-alive)
    fake_at.configure(down=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, OSError)):
        fake_at.send("+260971234567", "down")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, OSError)):
        kept.request("GET", "/version1/messaging")  # an open keep-alive connection drops too
        kept.getresponse()
    kept.close()
    fake_at.configure(down=False)
    assert fake_at.send("+260971234567", "up again")[0] == 201
    stats = fake_at.stats()
    assert stats["hung"] == 1 and stats["hangups"] == 1 and stats["connections_refused"] >= 1
    # no fault ever records a message: only "slow" and "up again" were accepted
    assert sorted(m["message"] for m in fake_at.messages()) == ["slow", "up again"]


def test_fake_at_keepalive_concurrency_and_exactly_once_stats(fake_at):
    conn = http.client.HTTPConnection("127.0.0.1", fake_at.port, timeout=10)
    headers = {"apiKey": fake_at.api_key, "Accept": "application/json",
               "Content-Type": "application/x-www-form-urlencoded"}
    for i in range(3):  # three requests on one keep-alive connection
        conn.request("POST", "/version1/messaging", urllib.parse.urlencode(
            {"username": fake_at.username, "to": "+260971234567", "message": f"ka{i}"}), headers)
        resp = conn.getresponse()
        assert resp.status == 201 and resp.getheader("Connection") != "close"
        resp.read()
    conn.close()

    fake_at.configure(delay_ms=200)
    t0 = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda i: fake_at.send(f"+2609710000{i:02d}", "n1")[0], range(32)))
    assert codes == [201] * 32
    assert time.monotonic() - t0 < 3  # served concurrently, not 32 x 200 ms
    fake_at.send("+260971000001", "n1")  # a duplicate
    stats = fake_at.stats()
    assert stats["messages"] == 36 and stats["api_requests"] == 36
    assert stats["duplicates"] == [{"number": "+260971000001", "message": "n1", "count": 2}]


def test_fake_at_delivery_reports(peer_factory, http_sink):
    at = peer_factory(peers.FakeAfricasTalking, callback_url=f"{http_sink.url}/at/dlr")
    at.configure(dlr={"enabled": True, "delay_ms": 50, "statuses": ["Sent", "Success"],
                      "per_number": {"+260961234567": {"statuses": ["Failed"],
                                                       "failureReason": "UserInBlacklist"}}})
    _, body = at.send(["+260971234567", "+260961234567"], "dlr please")
    ids = {r["number"]: r["messageId"] for r in json.loads(body)["SMSMessageData"]["Recipients"]}
    reqs = http_sink.wait_for(3)
    forms = [{k: v[0] for k, v in r["form"].items()} for r in reqs]
    assert all(r["method"] == "POST" and r["path"] == "/at/dlr" for r in reqs)
    airtel = [f for f in forms if f["phoneNumber"] == "+260971234567"]
    assert [f["status"] for f in airtel] == ["Sent", "Success"]
    assert airtel[0] == {"id": ids["+260971234567"], "status": "Sent",
                         "phoneNumber": "+260971234567", "networkCode": "64501", "retryCount": "0"}
    (mtn,) = [f for f in forms if f["phoneNumber"] == "+260961234567"]
    assert mtn["status"] == "Failed" and mtn["failureReason"] == "UserInBlacklist"
    assert mtn["networkCode"] == "64502"
    # a report on demand, e.g. to drive a notification to Expired
    entry = at.send_dlr(ids["+260971234567"], "Expired", retryCount=3)
    assert entry["ok"]
    last = {k: v[0] for k, v in http_sink.wait_for(4)[-1]["form"].items()}
    assert last["status"] == "Expired" and last["retryCount"] == "3" and last["failureReason"]
    assert at.stats()["dlrs_sent"] == 4


# -- cleanup ----------------------------------------------------------------------------------
def test_stop_leaves_nothing_running(peer_factory):
    r = peer_factory(peers.Redis)
    pids = [p.pid for p in r.procs.values()]
    r.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
    assert not r.dir.exists()
