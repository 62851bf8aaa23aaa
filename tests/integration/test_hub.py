"""The SignalR hub end to end with the official @microsoft/signalr client in Node (issue 6).

Notifications go in through POST /api/v1/notifications (channel inapp), through the dispatcher and
the in-app channel, out through the hub. tests/integration/hub/signalr_driver.js runs the client.
"""
import os
import re
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from comms_server import CommsServer  # noqa: E402
from hub.driver import SignalRDriver  # noqa: E402
from hub.rawws import RawWs  # noqa: E402

ORIGIN = "https://portal.intellifin.example"


@pytest.fixture
def srv():
    s = CommsServer(env={"COMMS_CORS_ORIGINS": ORIGIN, "COMMS_SHUTDOWN_TIMEOUT": "3000"}).start()
    yield s
    s.stop()


@pytest.fixture
def client(node, node_modules):
    d = SignalRDriver(node)
    yield d
    d.close()


@pytest.fixture
def service(srv):
    return srv.token("loan-origination", "service")


def send_inapp(srv, token, recipient, content="Your loan is approved", **extra):
    body = {"recipientId": recipient, "channel": "inapp", "subject": "Loan", "content": content, **extra}
    r = srv.request("POST", "/api/v1/notifications", token, body)
    assert r.status_code == 202, r.text
    return r.json()["notificationId"]


def hub_connections(srv):
    text = srv.request("GET", "/metrics").text
    m = re.search(r"^comms_hub_connections (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def wait_connections(srv, n, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if hub_connections(srv) == n:
            return
        time.sleep(0.05)
    raise AssertionError(f"comms_hub_connections is {hub_connections(srv)}, not {n}")


# --- negotiate ----------------------------------------------------------------------------------

def test_negotiate_answers_the_signalr_shape(srv):
    token = srv.token("cust-1", "customer")
    r = srv.request("POST", "/hubs/notifications/negotiate?negotiateVersion=1", token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["negotiateVersion"] == 1
    assert body["connectionId"] and body["connectionToken"] and body["connectionId"] != body["connectionToken"]
    assert body["availableTransports"] == [{"transport": "WebSockets", "transferFormats": ["Text"]}]
    # Version 0 clients get no token: the id is what they connect with.
    r = srv.request("POST", "/hubs/notifications/negotiate", token)
    assert r.json()["negotiateVersion"] == 0 and "connectionToken" not in r.json()
    assert srv.request("POST", "/hubs/notifications/negotiate?negotiateVersion=1").status_code == 401


def test_negotiate_answers_the_cors_preflight_with_credentials(srv):
    r = srv.request("OPTIONS", "/hubs/notifications/negotiate?negotiateVersion=1",
                    headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                             "Access-Control-Request-Headers": "authorization,x-requested-with,x-signalr-user-agent"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "x-signalr-user-agent" in r.headers["Access-Control-Allow-Headers"]
    token = srv.token("cust-1", "customer")
    r = srv.request("POST", "/hubs/notifications/negotiate?negotiateVersion=1", token, headers={"Origin": ORIGIN})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    # Other origins get no CORS headers (the browser refuses).
    r = srv.request("OPTIONS", "/hubs/notifications/negotiate",
                    headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in r.headers


# --- connecting ---------------------------------------------------------------------------------

def test_official_client_connects_with_a_token_and_is_refused_without(srv, client):
    token = srv.token("cust-1", "customer")
    reply = client.connect("a", srv.base, token)
    assert reply["connectionId"]
    assert client.call("state", name="a")["state"] == "Connected"
    # skipNegotiation straight to the WebSocket, token in the Authorization header (Node).
    client.connect("b", srv.base, token, skipNegotiation=True)
    assert client.call("state", name="b")["state"] == "Connected"
    wait_connections(srv, 2)

    refused = client.connect("c", srv.base, None, check=False)
    assert not refused["ok"] and "401" in refused["error"]
    refused = client.connect("d", srv.base, None, skipNegotiation=True, check=False)
    assert not refused["ok"]
    bad = client.connect("e", srv.base, token[:-4] + "AAAA", check=False)
    assert not bad["ok"] and "401" in bad["error"]
    client.call("stop", name="a")
    client.call("stop", name="b")
    wait_connections(srv, 0)


def test_connection_tokens_404_409_and_query_string_token(srv):
    token = srv.token("cust-1", "customer")
    other = srv.token("cust-2", "customer")
    nego = srv.request("POST", "/hubs/notifications/negotiate?negotiateVersion=1", token).json()
    ct = nego["connectionToken"]
    # Browsers put the token in the query string.
    assert RawWs(srv.port, f"/hubs/notifications?id=unknown&access_token={token}").status == 404
    assert RawWs(srv.port, f"/hubs/notifications?id={ct}&access_token={other}").status == 404  # not theirs
    first = RawWs(srv.port, f"/hubs/notifications?id={ct}&access_token={token}")
    assert first.status == 101
    second = RawWs(srv.port, f"/hubs/notifications?id={ct}&access_token={token}")
    assert second.status == 409
    assert first.handshake() == ["{}"]
    first.close()
    wait_connections(srv, 0)
    # A token is good for one connection: once it closed, the token is gone.
    assert RawWs(srv.port, f"/hubs/notifications?id={ct}&access_token={token}").status == 404
    assert RawWs(srv.port, "/hubs/notifications").status == 401


# --- who receives what --------------------------------------------------------------------------

def test_each_connection_receives_only_its_own_and_its_groups_notifications(srv, client, service):
    client.connect("a", srv.base, srv.token("cust-a", "customer"))
    client.connect("b", srv.base, srv.token("cust-b", "customer"))
    client.connect("x1", srv.base, srv.token("staff-1", "staff", branch="X"))
    client.connect("y1", srv.base, srv.token("staff-2", "staff", branch="Y"))
    # A customer whose token names branch X still only listens as itself.
    client.connect("cx", srv.base, srv.token("cust-c", "customer", branch="X"))

    to_a = send_inapp(srv, service, "cust-a", "for a")
    to_b = send_inapp(srv, service, "cust-b", "for b")
    to_x = send_inapp(srv, service, "branch:X", "for branch X")
    to_staff = send_inapp(srv, service, "role:staff", "for all staff")
    offline = send_inapp(srv, service, "cust-offline", "nobody is connected")

    a = client.wait_notifications("a", 1)
    b = client.wait_notifications("b", 1)
    x1 = client.wait_notifications("x1", 2)
    y1 = client.wait_notifications("y1", 1)
    for n in (to_a, to_b, to_x, to_staff, offline):
        srv.wait_status(n, service, ["Delivered", "Sent"])
    time.sleep(0.3)  # anything misrouted would have arrived by now
    assert [n["id"] for n in client.notifications("a")] == [to_a]
    assert [n["id"] for n in client.notifications("b")] == [to_b]
    assert sorted(n["id"] for n in client.notifications("x1")) == sorted([to_x, to_staff])
    assert [n["id"] for n in client.notifications("y1")] == [to_staff]
    assert client.notifications("cx") == []

    n = a[0]
    assert n["recipientId"] == "cust-a" and n["content"] == "for a" and n["subject"] == "Loan"
    assert n["category"] is None and n["createdAt"].endswith("Z") and n["readAt"] is None
    assert b[0]["content"] == "for b" and x1 and y1

    # Delivered when a connection got it; Sent (and waiting in the inbox) when none did.
    assert srv.wait_status(to_a, service, ["Delivered"])["deliveredAt"]
    assert srv.wait_status(to_x, service, ["Delivered"])
    assert srv.wait_status(offline, service, ["Sent"])["provider"] == "hub"
    inbox = srv.request("GET", "/api/v1/inbox", srv.token("cust-offline", "customer")).json()
    assert [i["id"] for i in inbox["items"]] == [offline] and inbox["unreadCount"] == 1


def test_mark_read_and_get_unread_round_trips(srv, client, service):
    client.connect("a", srv.base, srv.token("cust-a", "customer"))
    client.connect("b", srv.base, srv.token("cust-b", "customer"))
    first = send_inapp(srv, service, "cust-a", "first")
    second = send_inapp(srv, service, "cust-a", "second")
    theirs = send_inapp(srv, service, "cust-b", "b's")
    client.wait_notifications("a", 2)
    client.wait_notifications("b", 1)
    for n in (first, second, theirs):
        srv.wait_status(n, service, ["Delivered"])

    unread = client.invoke("a", "GetUnread")["result"]
    assert [n["id"] for n in unread] == [second, first]  # newest first
    assert client.invoke("a", "MarkRead", first)["ok"]
    assert [n["id"] for n in client.invoke("a", "GetUnread")["result"]] == [second]
    # Marking twice is fine; someone else's notification is not found.
    assert client.invoke("a", "MarkRead", first)["ok"]
    r = client.invoke("a", "MarkRead", theirs, check=False)
    assert not r["ok"] and "was not found" in r["error"]
    r = client.invoke("a", "MarkRead", check=False)
    assert not r["ok"] and "MarkRead expects one argument" in r["error"]
    r = client.invoke("a", "NoSuchMethod", check=False)
    assert not r["ok"] and "does not exist" in r["error"]
    assert [n["id"] for n in client.invoke("b", "GetUnread")["result"]] == [theirs]

    # The inbox API sees the same state; read it, page it, mark over HTTP.
    tok_a = srv.token("cust-a", "customer")
    inbox = srv.request("GET", "/api/v1/inbox", tok_a).json()
    assert [i["id"] for i in inbox["items"]] == [second, first]
    assert inbox["unreadCount"] == 1 and inbox["totalCount"] == 2
    assert inbox["items"][1]["readAt"] is not None and inbox["items"][0]["readAt"] is None
    page = srv.request("GET", "/api/v1/inbox?pageSize=1&page=2", tok_a).json()
    assert [i["id"] for i in page["items"]] == [first] and page["totalPages"] == 2
    assert [i["id"] for i in srv.request("GET", "/api/v1/inbox?unread=true", tok_a).json()["items"]] == [second]
    r = srv.request("POST", f"/api/v1/inbox/{second}/read", tok_a)
    assert r.status_code == 200 and r.json()["readAt"]
    assert srv.request("POST", f"/api/v1/inbox/{theirs}/read", tok_a).status_code == 403
    assert srv.request("POST", "/api/v1/inbox/nope/read", tok_a).status_code == 404
    assert srv.request("GET", "/api/v1/inbox?bogus=1", tok_a).status_code == 400
    assert srv.request("GET", "/api/v1/inbox").status_code == 401
    assert client.invoke("a", "GetUnread")["result"] == []
    # The notification row records the read (the escalation workflow looks at it).
    assert srv.request("GET", f"/api/v1/notifications/{first}", service).json()["readAt"]


def test_bursts_arrive_whole_when_the_server_batches_records(srv, client, service):
    """Records queued together go out in one WebSocket message; the client must see every one."""
    client.connect("a", srv.base, srv.token("cust-a", "customer"))
    ids = [send_inapp(srv, service, "cust-a", f"n{i}") for i in range(60)]
    got = client.wait_notifications("a", 60, timeout=20)
    assert sorted(n["id"] for n in got) == sorted(ids)


def test_automatic_reconnect_after_a_server_restart(srv, client, service):
    client.connect("a", srv.base, srv.token("cust-a", "customer"), reconnect=True)
    assert srv.stop() == 0
    # The hub said Close with allowReconnect, so the client reconnects instead of giving up.
    client.wait_event(lambda e: e["event"] == "reconnecting" and e["name"] == "a", what="reconnecting")
    restarted = CommsServer(data_dir=srv.data_dir, port=srv.port)
    restarted.env = dict(srv.env)
    restarted.start()
    try:
        client.wait_event(lambda e: e["event"] == "reconnected" and e["name"] == "a", timeout=20,
                          what="reconnected")
        n = send_inapp(restarted, service, "cust-a", "after the restart")
        got = client.wait_notifications("a", 1)
        assert got[-1]["id"] == n
        assert not [e for e in client.events if e["event"] == "closed"]
    finally:
        restarted.stop()


# --- keep-alive ---------------------------------------------------------------------------------

def test_keepalive_pings_and_a_silent_client_is_dropped(node, node_modules):
    srv = CommsServer(env={"COMMS_HUB_KEEPALIVE": "200", "COMMS_HUB_CLIENT_TIMEOUT": "1500"}).start()
    driver = SignalRDriver(node)
    try:
        token = srv.token("cust-a", "customer")
        raw = RawWs(srv.port, f"/hubs/notifications?access_token={token}")
        assert raw.status == 101 and raw.handshake() == ["{}"]
        started = time.time()
        seen = raw.wait_closed(timeout=5)  # silent: never sends a Ping
        elapsed = time.time() - started
        assert seen.count('{"type":6}') >= 2, seen  # pinged every 200 ms meanwhile
        assert seen[-1] == ('{"type":7,"error":"Server timeout elapsed without receiving a message from the client.",'
                            '"allowReconnect":true}')
        assert 1.4 < elapsed < 6, elapsed
        raw.close()

        # The official client pings on its own keep-alive interval and stays connected.
        driver.connect("a", srv.base, token, keepAlive=200)
        time.sleep(2.5)
        assert driver.call("state", name="a")["state"] == "Connected"
        assert not [e for e in driver.events if e["event"] == "closed"]
        driver.call("stop", name="a")
        wait_connections(srv, 0)
    finally:
        driver.close()
        srv.stop()


def test_shutdown_sends_close_to_every_client(srv):
    token = srv.token("cust-a", "customer")
    clients = [RawWs(srv.port, f"/hubs/notifications?access_token={token}") for _ in range(5)]
    for c in clients:
        assert c.handshake() == ["{}"]
    srv.proc.send_signal(15)
    for c in clients:
        seen = c.wait_closed(timeout=5)
        assert seen == ['{"type":7,"error":"Server is shutting down.","allowReconnect":true}']
    assert srv.proc.wait(10) == 0
