"""The event intake end to end over a real RabbitMQ broker (issue 4): events published by an
independent client (pika) in MassTransit's envelope reach `comms serve` through COMMS_BUS=amqp://...,
become notifications once, fault clearly when malformed, and the saga's NotificationSent makes the
round trip through the broker (outbox relay -> exchange -> communications queue -> saga).

Envelope and publisher helpers come from test_bus_rabbitmq.py (the transport's own tests).
"""
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from test_bus_rabbitmq import Publisher, drain, envelope, queue_counts  # noqa: E402
from test_events import catalogue, customer, db_rows, start, tokens_of, wait_for  # noqa: E402


@pytest.fixture
def service(rabbitmq):
    ns = "IntelliFin.Test" + uuid.uuid4().hex[:6]
    queue = "communications-" + uuid.uuid4().hex[:6]
    srv = start({"COMMS_BUS": rabbitmq.url, "COMMS_BUS_NAMESPACE": ns, "COMMS_BUS_QUEUE": queue})
    # The receive endpoint and its bindings exist once the consumer reports connected (it declares the
    # queue first and the type exchanges after it, so the queue alone is not enough).
    wait_for(lambda: 'comms_bus_connected{connection="consume"} 1' in srv.request("GET", "/metrics").text,
             what="the consumer to connect")
    pub = Publisher(rabbitmq)
    yield srv, ns, queue, pub
    pub.close()
    srv.stop()


def rows_for_event(srv, event_id):
    return db_rows(srv, "SELECT recipient_id, channel, template_name FROM notifications WHERE event_id = ?",
                   event_id)


def test_every_catalogue_event_over_the_broker_once(service, rabbitmq):
    srv, ns, queue, pub = service
    events = catalogue()
    for type_, message, _ in events:
        env = envelope(ns, type_, message)
        pub.send(f"{ns}:{type_}", env)
        pub.send(f"{ns}:{type_}", env)  # redelivered / published twice
    for type_, message, expected in events:
        if type_ == "LoanApplicationCreated":  # its saga's second step follows over the broker
            expected = expected + [("branch:lusaka-01", "inapp", "new-application")]
        wait_for(lambda: sorted(rows_for_event(srv, message["eventId"])) == sorted(expected) or None,
                 what=f"{type_}'s notifications")
    # Once the queue is drained, the second copies have been consumed too, and created nothing.
    wait_for(lambda: queue_counts(rabbitmq, queue) == (0, 0), what="the queue to drain")
    for type_, message, expected in events:
        if type_ == "LoanApplicationCreated":
            expected = expected + [("branch:lusaka-01", "inapp", "new-application")]
        assert sorted(rows_for_event(srv, message["eventId"])) == sorted(expected), type_
    assert queue_counts(rabbitmq, f"{queue}_error")[0] == 0
    r = srv.request("GET", "/api/v1/recipients/c-100", tokens_of(srv)["admin"]).json()
    assert r["phone"] == "+260955000100"  # ClientCreated, then ClientContactUpdated


def test_a_bad_payload_lands_in_the_error_queue_naming_the_field(service, rabbitmq):
    srv, ns, queue, pub = service
    env = envelope(ns, "PaymentOverdue", dict(customer(), eventId=str(uuid.uuid4()), loanId="L",
                                              amountOverdue="lots", dueDate="2026-03-01", daysOverdue=3))
    pub.send(f"{ns}:PaymentOverdue", env)
    wait_for(lambda: queue_counts(rabbitmq, f"{queue}_error")[0] == 1, what="the error queue")
    ((props, _),) = drain(rabbitmq, f"{queue}_error", 1)
    assert props.headers["MT-Reason"] == "fault"
    assert props.headers["MT-Fault-Message"] == "PaymentOverdue: field 'amountOverdue' must be a number"
    assert db_rows(srv, "SELECT COUNT(*) FROM processed_events WHERE event_id = ?", env["message"]["eventId"]) \
        == [(0,)]


def test_the_application_saga_round_trips_through_the_broker(service):
    srv, ns, queue, pub = service
    t = tokens_of(srv)
    corr = str(uuid.uuid4())
    branch = "branch-" + uuid.uuid4().hex[:6]
    message = dict(customer(branchId=branch), eventId=str(uuid.uuid4()), applicationId="APP-MQ",
                   requestedAmount=5000, productType="SME")
    pub.send(f"{ns}:LoanApplicationCreated", envelope(ns, "LoanApplicationCreated", message, correlationId=corr))
    w = wait_for(lambda: (lambda r: r.json() if r.status_code == 200 and r.json()["currentState"] == "Completed"
                          else None)(srv.request("GET", f"/api/v1/workflows/{corr}", t["admin"])),
                 timeout=30, what="the saga to complete over RabbitMQ")
    assert [h["cause"] for h in w["history"]] == ["LoanApplicationCreated", "NotificationSent"]
    assert rows_for_event(srv, message["eventId"]) and \
        db_rows(srv, "SELECT COUNT(*) FROM notifications WHERE recipient_id = ?", f"branch:{branch}") == [(1,)]
