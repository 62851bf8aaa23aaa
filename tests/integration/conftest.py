"""pytest fixtures that start real peers (see peers.py and docs/testing.md).

Run with Debian's interpreter:  /usr/bin/python3 -m pytest tests/integration
Install what they need first:   bash scripts/setup-test-deps.sh

Scopes: a peer whose start is slow (RabbitMQ, PostgreSQL) is shared by the session; a test that
restarts, kills or pauses one takes the *_private variant, which is its own instance. Everything
else starts per test (well under a second each).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import peers


def _started(peer: peers.Peer) -> peers.Peer:
    try:
        return peer.start()
    except BaseException:
        peer.close()
        raise


# -- RabbitMQ ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def rabbitmq():
    """A broker shared by the session (guest/guest, vhost "/"). Don't stop it; use
    rabbitmq_private to restart or kill a broker."""
    peer = _started(peers.RabbitMQ())
    yield peer
    peer.close()


@pytest.fixture
def rabbitmq_private():
    """A broker of the test's own (start takes several seconds): restart()/kill()/pause() freely."""
    peer = _started(peers.RabbitMQ())
    yield peer
    peer.close()


# -- PostgreSQL -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server shared by the session. Prefer pg_url for a database of your own."""
    peer = _started(peers.Postgres())
    yield peer
    peer.close()


@pytest.fixture
def pg_url(postgres):
    """URL of a fresh, empty database on the session server, dropped after the test."""
    url = postgres.create_database()
    yield url
    postgres.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def postgres_private():
    """A PostgreSQL server of the test's own: stop()/start()/kill() for outage tests."""
    peer = _started(peers.Postgres())
    yield peer
    peer.close()


# -- Redis ------------------------------------------------------------------------------------
@pytest.fixture
def redis_server():
    peer = _started(peers.Redis())
    yield peer
    peer.close()


# -- SMTP -------------------------------------------------------------------------------------
@pytest.fixture
def smtp():
    """Plain smtp://, no AUTH."""
    peer = _started(peers.SmtpCapture())
    yield peer
    peer.close()


@pytest.fixture
def smtp_secure():
    """STARTTLS required, AUTH (PLAIN/LOGIN) required after it; peer.cert_file is the CA."""
    peer = _started(peers.SmtpCapture(tls="starttls", auth=True, require_starttls=True,
                                      require_auth=True))
    yield peer
    peer.close()


# -- Kannel -----------------------------------------------------------------------------------
@pytest.fixture
def kannel():
    """bearerbox + smsbox + fakesmsc of the test's own (start is well under a second)."""
    peer = _started(peers.Kannel())
    yield peer
    peer.close()


# -- fake Africa's Talking --------------------------------------------------------------------
@pytest.fixture
def fake_at():
    peer = _started(peers.FakeAfricasTalking())
    yield peer
    peer.close()


# -- helpers ----------------------------------------------------------------------------------
@pytest.fixture
def http_sink():
    """An HTTP server in this process recording every request (for DLR callbacks)."""
    sink = peers.HttpSink()
    yield sink
    sink.close()


@pytest.fixture
def peer_factory():
    """make(PeerClass, **kwargs) -> a started peer, closed after the test."""
    made: list[peers.Peer] = []

    def make(cls, **kwargs):
        peer = _started(cls(**kwargs))
        made.append(peer)
        return peer

    yield make
    for peer in reversed(made):
        peer.close()


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/node_modules (installed by scripts/setup-test-deps.sh)."""
    path = peers.REPO / "tests" / "node_modules"
    if not (path / "@microsoft" / "signalr").is_dir() or not (path / "amqplib").is_dir():
        pytest.fail("tests/node_modules is missing: run bash scripts/setup-test-deps.sh")
    return path


@pytest.fixture(scope="session")
def node() -> str:
    exe = shutil.which("node")
    if not exe:
        pytest.fail("node is not installed: run bash scripts/setup-test-deps.sh")
    return exe


def pytest_terminal_summary(terminalreporter):
    if not peers.TIMINGS:
        return
    terminalreporter.section("peer start times (seconds)")
    by_peer: dict[tuple[str, str], list[float]] = {}
    for name, what, secs in peers.TIMINGS:
        by_peer.setdefault((name, what), []).append(secs)
    for (name, what), values in sorted(by_peer.items()):
        terminalreporter.write_line(
            f"{name:15s} {what:8s} n={len(values):<3d} min={min(values):6.2f} "
            f"max={max(values):6.2f} mean={sum(values) / len(values):6.2f}")
