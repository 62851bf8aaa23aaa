"""Protocol-level hub tests with a raw WebSocket client (tests/integration/hub/rawws.py): framing
edge cases and malformed input. Each bad connection closes cleanly, and the server keeps serving
with no connection left behind (comms_hub_connections returns to 0)."""
import json
import os
import re
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from comms_server import CommsServer  # noqa: E402
from hub.rawws import CONT, RS, TEXT, Closed, RawWs  # noqa: E402


@pytest.fixture(scope="module")
def srv():
    s = CommsServer(env={"COMMS_HUB_HANDSHAKE_TIMEOUT": "1000", "COMMS_HUB_MAX_MESSAGE": "4096"}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def token(srv):
    return srv.token("cust-p", "customer")


@pytest.fixture(autouse=True)
def no_leaks(srv):
    yield
    deadline = time.time() + 10
    while time.time() < deadline:
        if connections(srv) == 0:
            break
        time.sleep(0.05)
    assert connections(srv) == 0, "a hub connection was left behind"
    assert srv.request("GET", "/health/live").status_code == 200
    assert srv.proc.poll() is None, srv.log()


def connections(srv):
    m = re.search(r"^comms_hub_connections (\S+)$", srv.request("GET", "/metrics").text, re.M)
    return float(m.group(1))


def connect(srv, token):
    ws = RawWs(srv.port, f"/hubs/notifications?access_token={token}")
    assert ws.status == 101, ws.body
    return ws


def get_unread(invocation_id):
    return json.dumps({"type": 1, "invocationId": invocation_id, "target": "GetUnread", "arguments": []}) + RS


def completions(ws, count, timeout=5):
    """Reads until `count` Completion records arrived (they may share messages)."""
    got = []
    deadline = time.time() + timeout
    while len(got) < count:
        for r in ws.records(max(0.01, deadline - time.time())):
            m = json.loads(r)
            if m["type"] == 3:
                got.append(m)
    return got


# --- handshakes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("handshake, error", [
    ('{"protocol":"messagepack","version":1}', "The protocol 'messagepack' is not supported."),
    ('{"protocol":"json","version":3}', "The server does not support version 3 of the 'json' protocol."),
    ('{"protocol":"json"}', "needs a string 'protocol' and an integer 'version'"),
    ("not json at all", "not a JSON object"),
    ("[]", "not a JSON object"),
])
def test_a_bad_handshake_gets_an_error_then_a_close(srv, token, handshake, error):
    ws = connect(srv, token)
    ws.send_text(handshake + RS)
    records = ws.wait_closed()
    assert len(records) == 1
    assert error in json.loads(records[0])["error"]
    ws.close()


def test_handshake_versions_one_and_two(srv, token):
    for version in (1, 2):
        ws = connect(srv, token)
        assert ws.handshake(version) == ["{}"]
        ws.close()


def test_a_handshake_split_over_fragmented_frames_and_messages(srv, token):
    hs = '{"protocol":"json","version":1}' + RS
    ws = connect(srv, token)
    ws.send_frame(TEXT, hs[:5].encode(), fin=False)  # one message, three frames
    ws.send_frame(CONT, hs[5:12].encode(), fin=False)
    ws.send_frame(CONT, hs[12:].encode(), fin=True)
    assert ws.records() == ["{}"]
    ws.close()

    ws = connect(srv, token)
    ws.send_text(hs[:10])  # two messages: the record separator decides, not the message
    ws.send_text(hs[10:])
    assert ws.records() == ["{}"]
    ws.close()


def test_a_silent_connection_is_dropped_after_the_handshake_timeout(srv, token):
    ws = connect(srv, token)
    started = time.time()
    with pytest.raises(Closed):
        ws.recv_message(timeout=5)
    assert time.time() - started < 6
    ws.close()


def test_handshake_and_first_messages_in_one_frame(srv, token):
    ws = connect(srv, token)
    ws.send_text('{"protocol":"json","version":1}' + RS + get_unread("1") + get_unread("2"))
    records = []
    while len([r for r in records if r.startswith('{"type":3')]) < 2:
        records += ws.records()
    assert records[0] == "{}"
    ws.close()


# --- messages -----------------------------------------------------------------------------------

def test_several_messages_in_one_frame(srv, token):
    ws = connect(srv, token)
    assert ws.handshake() == ["{}"]
    ws.send_text('{"type":6}' + RS + get_unread("a") + '{"type":6}' + RS + get_unread("b"))
    got = completions(ws, 2)
    assert [c["invocationId"] for c in got] == ["a", "b"]
    assert all(c["result"] == [] for c in got)
    ws.close()


def test_a_message_split_over_frames_and_messages(srv, token):
    ws = connect(srv, token)
    assert ws.handshake() == ["{}"]
    msg = get_unread("split").encode()
    ws.send_frame(TEXT, msg[:7], fin=False)
    ws.send_frame(CONT, msg[7:20], fin=False)
    ws.send_frame(CONT, msg[20:], fin=True)
    assert completions(ws, 1)[0]["invocationId"] == "split"
    ws.send_text(get_unread("two")[:15])
    ws.send_text(get_unread("two")[15:])
    assert completions(ws, 1)[0]["invocationId"] == "two"
    ws.close()


def test_unknown_and_ignored_message_types_keep_the_connection(srv, token):
    ws = connect(srv, token)
    assert ws.handshake() == ["{}"]
    for m in ('{"type":99,"anything":[1,2,3]}', '{"type":2,"invocationId":"x","item":1}',
              '{"type":3,"invocationId":"x","result":1}', '{"type":5,"invocationId":"x"}',
              '{"type":8,"sequenceId":3}', '{"type":9,"sequenceId":3}',
              '{"type":1,"target":"GetUnread","arguments":[]}'):  # non-blocking: no answer
        ws.send_text(m + RS)
    ws.send_text(json.dumps({"type": 4, "invocationId": "s", "target": "GetUnread", "arguments": []}) + RS)
    ws.send_text(get_unread("after"))
    got = completions(ws, 2)
    assert got[0] == {"type": 3, "invocationId": "s", "error": "Streaming hub methods are not supported."}
    assert got[1]["invocationId"] == "after"
    ws.close()


@pytest.mark.parametrize("bad", [
    "{not json",
    '{"type":"one"}',
    '{"noType":true}',
    '{"type":1,"target":"MarkRead"}',
    '{"type":1,"invocationId":7,"target":"MarkRead","arguments":[]}',
    "[" * 1000 + "]" * 1000,
])
def test_a_malformed_message_closes_with_an_error(srv, token, bad):
    ws = connect(srv, token)
    assert ws.handshake() == ["{}"]
    ws.send_text(bad + RS)
    records = ws.wait_closed()
    close = json.loads(records[-1])
    assert close["type"] == 7 and close["error"].startswith("Connection closed with an error")
    assert "allowReconnect" not in close
    ws.close()


def test_an_oversized_message_closes_the_connection(srv, token):
    ws = connect(srv, token)
    assert ws.handshake() == ["{}"]
    ws.send_text('{"type":1,"target":"' + "x" * 5000)  # over COMMS_HUB_MAX_MESSAGE, never terminated
    records = ws.wait_closed()
    assert "larger than the server accepts" in json.loads(records[-1])["error"]
    ws.close()


def test_invalid_utf8_closes_the_websocket(srv, token):
    ws = connect(srv, token)
    assert ws.handshake() == ["{}"]
    ws.send_frame(TEXT, b'{"type":6,"x":"\xff\xfe"}' + RS.encode())
    with pytest.raises(Closed) as closed:
        while True:
            ws.recv_message()
    assert closed.value.code in (1007, None)
    ws.close()


def test_the_client_close_message_ends_the_connection(srv, token):
    ws = connect(srv, token)
    assert ws.handshake() == ["{}"]
    ws.send_text('{"type":7}' + RS)
    assert ws.wait_closed() == []
    ws.close()


def test_abrupt_disconnects_at_every_stage_leave_nothing_behind(srv, token):
    for stage in range(4):
        for _ in range(25):
            ws = connect(srv, token)
            if stage >= 1:
                ws.send_text('{"protocol":"json",')  # half a handshake
            if stage >= 2:
                ws.send_text('"version":1}' + RS)
            if stage >= 3:
                ws.sock.sendall(b"\x81\xfe\x10\x00")  # a frame header promising 4096 bytes, then nothing
            ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            ws.close()  # RST


def test_upgrade_requests_the_hub_refuses(srv, token):
    assert RawWs(srv.port, "/hubs/notifications").status == 401
    assert RawWs(srv.port, "/hubs/notifications?access_token=garbage").status == 401
    assert RawWs(srv.port, f"/hubs/notifications/other?access_token={token}").status == 404
    r = RawWs(srv.port, f"/hubs/notifications?id=nope&access_token={token}")
    assert r.status == 404 and json.loads(r.body)["error"]["code"] == "not_found"
