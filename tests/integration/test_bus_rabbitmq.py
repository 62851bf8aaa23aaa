"""The RabbitMQ bus against a real broker, with messages from an independent client (pika)
in MassTransit's envelope.

The service side runs in the gtest harness (tests/unit/bus/rabbitmq_test.cc, binary unit_bus
next to COMMS_TEST_BIN): each test starts one Harness* scenario with its own queue and namespace,
then publishes and inspects the broker with pika and rabbitmqctl.

/usr/bin/python3 -m pytest tests/integration/test_bus_rabbitmq.py
"""

from __future__ import annotations

import datetime
import json
import os
import queue
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pika
import pytest

MT_JSON = "application/vnd.masstransit+json"
UNIT_BUS = os.environ.get("COMMS_UNIT_BUS") or str(
    Path(os.environ.get("COMMS_TEST_BIN") or Path(__file__).parents[2] / "build" / "comms").parent / "unit_bus")


class Harness:
    """One run of a Harness* gtest scenario, its stdout read line by line."""

    def __init__(self, scenario: str, broker, **env):
        if not os.path.exists(UNIT_BUS):
            pytest.fail(f"{UNIT_BUS} is missing: build the unit_bus target")
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        full_env = dict(os.environ)
        full_env.update({"COMMS_TEST_AMQP_URL": broker.url, "COMMS_TEST_BUS_SCENARIO": scenario})
        full_env.update({f"COMMS_TEST_BUS_{k.upper()}": str(v) for k, v in env.items()})
        test = {"consume": "HarnessConsume.Run", "publish": "HarnessPublish.Run", "outbox": "HarnessOutbox.Run"}
        self.proc = subprocess.Popen([UNIT_BUS, f"--gtest_filter={test[scenario]}"], env=full_env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.output.append(line)
            if line.startswith("HARNESS "):
                self.lines.put(line[len("HARNESS "):].strip())

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no '{prefix}' from the harness:\n{self.tail()}")

    def finish(self, timeout: float = 120) -> dict:
        """Waits for the scenario to end; asserts it passed; returns its RESULT."""
        result = json.loads(self.wait_for("RESULT", timeout)[len("RESULT "):])
        assert self.proc.wait(30) == 0, self.tail()
        return result

    def log(self) -> str:
        return "".join(self.output)

    def tail(self, chars: int = 4000) -> str:
        return "".join(line for line in self.output if not line.startswith("HARNESS RESULT"))[-chars:]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def names():
    """A namespace and queue of this test's own."""
    tag = uuid.uuid4().hex[:8]
    return {"ns": f"T{tag}.Contracts", "queue": f"communications-{tag}"}


@pytest.fixture
def harnesses():
    made: list[Harness] = []
    yield made
    for h in made:
        h.kill()


def start(harnesses, scenario, broker, **env) -> Harness:
    h = Harness(scenario, broker, **env)
    harnesses.append(h)
    return h


def envelope(ns: str, type_: str, message: dict, message_id: str | None = None, **extra) -> dict:
    """An envelope as MassTransit 8 serializes it."""
    e = {
        "messageId": message_id or str(uuid.uuid4()),
        "requestId": None,
        "correlationId": str(uuid.uuid4()),
        "conversationId": str(uuid.uuid4()),
        "initiatorId": None,
        "sourceAddress": "rabbitmq://localhost/loan-origination",
        "destinationAddress": f"rabbitmq://localhost/{ns}:{type_}",
        "responseAddress": None,
        "faultAddress": None,
        "messageType": [f"urn:message:{ns}:{type_}"],
        "message": message,
        "expirationTime": None,
        "sentTime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "headers": {},
        "host": {"machineName": "LOANS-1", "processName": "IntelliFin.LoanOrigination", "processId": 4242,
                 "assembly": "IntelliFin.LoanOrigination", "assemblyVersion": "1.0.0.0",
                 "frameworkVersion": "8.0.0", "massTransitVersion": "8.2.1.0",
                 "operatingSystemVersion": "Unix 6.1.0"},
    }
    e.update(extra)
    return e


class Publisher:
    """pika with publisher confirms, publishing as MassTransit does."""

    def __init__(self, broker):
        self.conn = pika.BlockingConnection(pika.URLParameters(broker.url))
        self.ch = self.conn.channel()
        self.ch.confirm_delivery()

    def send(self, exchange: str, body: bytes | str | dict, content_type: str | None = MT_JSON,
             headers: dict | None = None, message_id: str | None = None, routing_key: str = ""):
        if isinstance(body, dict):
            message_id = message_id or body.get("messageId")
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        props = pika.BasicProperties(content_type=content_type, delivery_mode=2, message_id=message_id,
                                     headers=headers)
        self.ch.basic_publish(exchange, routing_key, body, props, mandatory=True)

    def close(self):
        self.conn.close()


def wait_for(pred, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def queue_counts(broker, name: str) -> tuple[int, int]:
    """(ready, unacknowledged) for queue `name`."""
    for line in broker.ctl("list_queues", "name", "messages_ready", "messages_unacknowledged",
                           "--silent").splitlines():
        cols = line.split("\t")
        if cols[0] == name:
            return int(cols[1]), int(cols[2])
    raise AssertionError(f"queue {name} does not exist")


def drain(broker, name: str, expect: int, timeout: float = 30) -> list[tuple]:
    """Takes `expect` messages from queue `name` (acking them): [(properties, body), ...]."""
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    ch = conn.channel()
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < expect and time.monotonic() < deadline:
        method, props, body = ch.basic_get(name, auto_ack=True)
        if method is None:
            time.sleep(0.05)
            continue
        got.append((props, body))
    conn.close()
    assert len(got) == expect, f"{len(got)} of {expect} messages in {name}"
    return got


def watch(broker, ns: str, *types: str) -> str:
    """A durable queue of this test's own bound to the exchanges of `types`: what an independent
    subscriber of our events would see."""
    conn = pika.BlockingConnection(pika.URLParameters(broker.url))
    ch = conn.channel()
    watcher = f"watch-{uuid.uuid4().hex[:8]}"
    ch.queue_declare(watcher, durable=True)
    for t in types:
        ch.exchange_declare(f"{ns}:{t}", "fanout", durable=True)
        ch.queue_bind(watcher, f"{ns}:{t}")
    conn.close()
    return watcher


# ---------------------------------------------------------------------------------------------

def test_gtest_broker_suite(rabbitmq):
    """The self-contained RabbitMqTest.* cases in unit_bus, which need only a broker URL."""
    if not os.path.exists(UNIT_BUS):
        pytest.fail(f"{UNIT_BUS} is missing: build the unit_bus target")
    env = dict(os.environ, COMMS_TEST_AMQP_URL=rabbitmq.url)
    out = subprocess.run([UNIT_BUS, "--gtest_filter=RabbitMq*"], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert "SKIPPED" not in out.stdout


def test_topology_is_declared_as_masstransit_declares_it(rabbitmq, names, harnesses):
    ns, q = names["ns"], names["queue"]
    h = start(harnesses, "consume", rabbitmq, ns=ns, queue=q, types="LoanApplicationCreated,PaymentReceived",
              expect=1)
    h.wait_for("READY")

    exchanges = {}
    for line in rabbitmq.ctl("list_exchanges", "name", "type", "durable", "auto_delete", "--silent").splitlines():
        cols = line.split("\t")
        exchanges[cols[0]] = (cols[1], cols[2], cols[3])
    for name in (f"{ns}:LoanApplicationCreated", f"{ns}:PaymentReceived", q, f"{q}_error", f"{q}_skipped"):
        assert exchanges.get(name) == ("fanout", "true", "false"), (name, exchanges.get(name))

    queues = {}
    for line in rabbitmq.ctl("list_queues", "name", "durable", "auto_delete", "exclusive", "arguments",
                             "--silent").splitlines():
        cols = line.split("\t")
        queues[cols[0]] = tuple(cols[1:])
    for name in (q, f"{q}_error", f"{q}_skipped"):
        assert queues.get(name) == ("true", "false", "false", "[]"), (name, queues.get(name))

    bindings = set()
    for line in rabbitmq.ctl("list_bindings", "source_name", "source_kind", "destination_name",
                             "destination_kind", "--silent").splitlines():
        bindings.add(tuple(line.split("\t")))
    for want in [(f"{ns}:LoanApplicationCreated", "exchange", q, "exchange"),
                 (f"{ns}:PaymentReceived", "exchange", q, "exchange"),
                 (q, "exchange", q, "queue"),
                 (f"{q}_error", "exchange", f"{q}_error", "queue"),
                 (f"{q}_skipped", "exchange", f"{q}_skipped", "queue")]:
        assert want in bindings, want

    consumers = rabbitmq.ctl("list_consumers", "queue_name", "ack_required", "prefetch_count", "--silent")
    assert f"{q}\ttrue\t64" in consumers.splitlines()

    p = Publisher(rabbitmq)
    p.send(f"{ns}:LoanApplicationCreated", envelope(ns, "LoanApplicationCreated", {"applicationId": "A-1"}))
    p.close()
    assert h.finish()["distinct"] == 1


def test_existing_entities_with_other_arguments_are_accepted(rabbitmq, names, harnesses):
    ns, q = names["ns"], names["queue"]
    conn = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    ch = conn.channel()
    # Created by an operator with a length limit, and the error exchange as a direct exchange.
    ch.queue_declare(q, durable=True, arguments={"x-max-length": 100000})
    ch.exchange_declare(f"{q}_error", "direct", durable=True)
    conn.close()

    h = start(harnesses, "consume", rabbitmq, ns=ns, queue=q, expect=3)
    h.wait_for("READY")
    p = Publisher(rabbitmq)
    for i in range(3):
        p.send(f"{ns}:LoanApplicationCreated", envelope(ns, "LoanApplicationCreated", {"n": i}))
    p.close()
    assert h.finish()["distinct"] == 3
    assert "bus_topology_kept_existing" in h.log()
    assert "x-max-length" in rabbitmq.ctl("list_queues", "name", "arguments", "--silent")


def test_consumes_and_acks_only_after_the_handler_is_done(rabbitmq, names, harnesses):
    ns, q = names["ns"], names["queue"]
    n = 300
    h = start(harnesses, "consume", rabbitmq, ns=ns, queue=q, expect=n + 1)
    h.wait_for("READY")
    p = Publisher(rabbitmq)
    # A held one first: while its handler runs, the broker must still hold it unacknowledged. The
    # handler waits for a file rather than a fixed time, so a slow rabbitmqctl cannot miss the window.
    release = Path(tempfile.mkdtemp()) / "release"
    p.send(f"{ns}:LoanApplicationCreated",
           envelope(ns, "LoanApplicationCreated", {"Behaviour": "hold", "HoldUntilFile": str(release)}))
    wait_for(lambda: queue_counts(rabbitmq, q) == (0, 1), 60, "the held message to be delivered, unacked")
    for i in range(n):
        # Payload fields in PascalCase, as a .NET publisher may send them.
        p.send(f"{ns}:LoanApplicationCreated",
               envelope(ns, "LoanApplicationCreated", {"ApplicationId": f"A-{i}", "RequestedAmount": 1500.5}))
    p.close()
    time.sleep(0.5)
    ready, unacked = queue_counts(rabbitmq, q)
    assert unacked >= 1, "the held message was acknowledged before its handler finished"
    release.touch()
    result = h.finish()
    assert result["distinct"] == n + 1
    assert queue_counts(rabbitmq, q) == (0, 0)
    assert queue_counts(rabbitmq, f"{q}_error") == (0, 0)


def test_poison_messages_go_to_the_error_queue_with_fault_headers(rabbitmq, names, harnesses):
    ns, q = names["ns"], names["queue"]
    stop = Path(tempfile.mkdtemp()) / "stop"
    h = start(harnesses, "consume", rabbitmq, ns=ns, queue=q, stop_file=stop, retry_limit=2)
    h.wait_for("READY")
    p = Publisher(rabbitmq)
    ex = f"{ns}:LoanApplicationCreated"
    custom = {"X-Trace-Id": "trace-1"}
    poison = {
        "bad-json": dict(body=b'{"messageId": "oops", "messageType": [', message_id="bad-json"),
        "wrong-type": dict(body=json.dumps(envelope(ns, "LoanApplicationCreated", {})).encode(),
                           content_type="text/xml", message_id="wrong-type"),
        "not-envelope": dict(body=b'{"hello": "world"}', message_id="not-envelope"),
        "fault": dict(body=envelope(ns, "LoanApplicationCreated", {"behaviour": "fault"}, message_id="fault")),
        "retry": dict(body=envelope(ns, "LoanApplicationCreated", {"behaviour": "retry"}, message_id="retry")),
        "throw": dict(body=envelope(ns, "LoanApplicationCreated", {"behaviour": "throw"}, message_id="throw")),
    }
    sent = {}
    for key, kw in poison.items():
        body = kw["body"]
        sent[key] = body if isinstance(body, bytes) else json.dumps(body).encode()
        p.send(ex, sent[key], content_type=kw.get("content_type", MT_JSON), headers=custom,
               message_id=key)
    # ...and a flaky one that succeeds on its retry: it must not be faulted.
    p.send(ex, envelope(ns, "LoanApplicationCreated", {"behaviour": "flaky"}, message_id="flaky"))
    p.close()

    wait_for(lambda: queue_counts(rabbitmq, f"{q}_error")[0] == len(poison), 30, "the error queue to fill")
    stop.touch()
    h.finish()
    assert queue_counts(rabbitmq, q) == (0, 0)

    moved = {props.message_id: (props, body) for props, body in drain(rabbitmq, f"{q}_error", len(poison))}
    assert set(moved) == set(poison)
    for key, (props, body) in moved.items():
        hdr = props.headers
        assert body == sent[key], key                      # the original body, untouched
        assert hdr["X-Trace-Id"] == "trace-1", key         # original headers kept
        assert hdr["MT-Reason"] == "fault", key
        assert hdr["MT-Fault-Message"], key
        assert hdr["MT-Fault-ExceptionType"], key
        assert "MT-Fault-StackTrace" in hdr, key
        datetime.datetime.fromisoformat(hdr["MT-Fault-Timestamp"].replace("Z", "+00:00"))
        assert hdr["MT-Host-MachineName"] and hdr["MT-Host-ProcessName"], key
        assert isinstance(hdr["MT-Host-ProcessId"], int), key
        assert props.delivery_mode == 2, key
    assert moved["wrong-type"][0].content_type == "text/xml"
    assert "text/xml" in moved["wrong-type"][0].headers["MT-Fault-Message"]
    assert "not valid JSON" in moved["bad-json"][0].headers["MT-Fault-Message"]
    assert "messageType" in moved["not-envelope"][0].headers["MT-Fault-Message"]
    assert moved["fault"][0].headers["MT-Fault-Message"] == "bad payload: fault"
    assert moved["fault"][0].headers["MT-Fault-MessageType"] == f"urn:message:{ns}:LoanApplicationCreated"
    assert moved["retry"][0].headers["MT-Fault-RetryCount"] == 2
    assert moved["retry"][0].headers["MT-Fault-Message"] == "still failing"
    assert moved["throw"][0].headers["MT-Fault-Message"] == "consumer threw"
    assert moved["throw"][0].headers["MT-Fault-ExceptionType"] == "std::runtime_error"
    assert queue_counts(rabbitmq, f"{q}_skipped") == (0, 0)


def test_unknown_type_goes_to_the_skipped_queue(rabbitmq, names, harnesses):
    ns, q = names["ns"], names["queue"]
    h = start(harnesses, "consume", rabbitmq, ns=ns, queue=q, expect=1)
    h.wait_for("READY")
    p = Publisher(rabbitmq)
    # Sent straight to the endpoint, as MassTransit's Send does; nobody here consumes the type.
    unknown = envelope(ns, "LoanRestructured", {"loanId": "L-1"}, message_id="unknown-1")
    p.send(q, unknown, headers={"X-Trace-Id": "t"})
    p.send(f"{ns}:LoanApplicationCreated", envelope(ns, "LoanApplicationCreated", {}))
    p.close()
    h.finish()
    wait_for(lambda: queue_counts(rabbitmq, f"{q}_skipped")[0] == 1, 10, "the skipped queue")
    [(props, body)] = drain(rabbitmq, f"{q}_skipped", 1)
    assert json.loads(body) == unknown
    assert props.headers["MT-Reason"] == "dead-letter"
    assert props.headers["X-Trace-Id"] == "t"
    assert props.headers["MT-Host-MachineName"]
    assert not any(k.startswith("MT-Fault-") for k in props.headers)
    assert queue_counts(rabbitmq, q) == (0, 0)
    assert queue_counts(rabbitmq, f"{q}_error") == (0, 0)


def test_broker_restart_mid_stream_loses_nothing(rabbitmq_private, names, harnesses):
    ns, q = names["ns"], names["queue"]
    n = 2000
    # 10 handlers at 50 ms each: about 10 s of work; the broker's graceful stop takes a few seconds,
    # so the restart lands in the middle of it.
    h = start(harnesses, "consume", rabbitmq_private, ns=ns, queue=q, expect=n, prefetch=10, timeout_s=150)
    h.wait_for("READY")
    p = Publisher(rabbitmq_private)
    for i in range(n):
        p.send(f"{ns}:LoanApplicationCreated",
               envelope(ns, "LoanApplicationCreated", {"n": i, "behaviour": "sleep", "sleepMs": 50}))
    p.close()
    h.wait_for("PROGRESS 200", 60)
    rabbitmq_private.restart()  # durable queue, persistent messages: the rest survive
    result = h.finish(timeout=180)
    assert result["distinct"] == n
    assert result["handled"] >= n  # some handled twice (acks lost with the connection) is fine
    log = h.log()
    # The consumer lost its connection before it was through the stream.
    assert log.index("event=bus_connection_lost connection=consume") < log.index("HARNESS PROGRESS 2000"), h.tail()
    assert log.count("event=bus_connected") >= 4, h.tail()  # consume and publish, before and after
    assert queue_counts(rabbitmq_private, q) == (0, 0)


def test_publishes_in_masstransit_envelope_with_confirms(rabbitmq, names, harnesses):
    ns, q = names["ns"], names["queue"]
    n = 200
    watcher = watch(rabbitmq, ns, "NotificationSent")

    h = start(harnesses, "publish", rabbitmq, ns=ns, queue=q, types="NotificationSent", count=n)
    result = h.finish()
    assert result["published"] == n
    got = drain(rabbitmq, watcher, n)
    for i, (props, body) in enumerate(got):
        assert props.content_type == MT_JSON
        assert props.delivery_mode == 2
        e = json.loads(body)
        assert props.message_id == e["messageId"]
        assert e["messageType"] == [f"urn:message:{ns}:NotificationSent"]
        assert e["message"] == {"n": i, "notificationId": f"n-{i}"}  # in publish order
        assert e["correlationId"] == f"corr-{i}"
        assert e["sourceAddress"] == f"rabbitmq://127.0.0.1:{rabbitmq.port}/{q}"
        assert e["destinationAddress"] == f"rabbitmq://127.0.0.1:{rabbitmq.port}/{ns}:NotificationSent"
        assert e["host"]["machineName"] and e["host"]["processId"] > 0
        assert e["sentTime"].endswith("Z")
        for k in ("requestId", "initiatorId", "responseAddress", "faultAddress", "expirationTime"):
            assert e[k] is None


def test_outbox_relay_publishes_in_order(rabbitmq, names, harnesses):
    ns, q = names["ns"], names["queue"]
    n = 500
    watcher = watch(rabbitmq, ns, "NotificationSent", "NotificationDelivered")

    h = start(harnesses, "outbox", rabbitmq, ns=ns, queue=q, count=n, batch=64)
    ids = h.finish()["ids"]
    got = drain(rabbitmq, watcher, n)
    bodies = [json.loads(body) for _, body in got]
    assert [b["messageId"] for b in bodies] == ids
    assert [b["message"]["n"] for b in bodies] == list(range(n))
    assert [b["messageType"][0].rsplit(":", 1)[1] for b in bodies[:2]] == ["NotificationSent",
                                                                         "NotificationDelivered"]
    assert all(b["correlationId"] == f"corr-{i}" for i, b in enumerate(bodies))


def test_outbox_relay_survives_a_broker_restart_in_order(rabbitmq_private, names, harnesses):
    ns, q = names["ns"], names["queue"]
    n = 3000
    watcher = watch(rabbitmq_private, ns, "NotificationSent", "NotificationDelivered")

    # Rows are written at 300/s while the relay publishes them, at least n of them, and on until the broker
    # has restarted (the file), however slowly this machine runs the steps in between.
    restarted = Path(tempfile.mkdtemp()) / "restarted"
    h = start(harnesses, "outbox", rabbitmq_private, ns=ns, queue=q, count=n, rate=300, batch=64, timeout_s=150,
              write_until_file=str(restarted))
    wait_for(lambda: queue_counts(rabbitmq_private, watcher)[0] >= 300, 60, "the relay to get going")
    rabbitmq_private.restart()
    restarted.touch()
    ids = h.finish(timeout=200)["ids"]
    assert len(ids) >= n
    assert "event=bus_connection_lost connection=publish" in h.log(), h.tail()

    ready, _ = wait_for(lambda: (lambda c: c if c[0] >= len(ids) else None)(queue_counts(rabbitmq_private, watcher)),
                        30, "every row in the watcher queue")
    got = drain(rabbitmq_private, watcher, ready)
    seen = [json.loads(body)["messageId"] for _, body in got]
    first = list(dict.fromkeys(seen))  # first occurrences, in arrival order
    assert first == ids, "a row went missing or overtook an earlier one"
    assert len(seen) - len(first) < 200  # republished after the restart: at most a few batches
