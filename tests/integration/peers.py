#!/usr/bin/python3
"""Real peer services for the integration tests: start, stop, restart, on free ports, in temp dirs.

Every peer is a class with start() / stop() / restart() / kill() / pause() / resume() / close(),
its ports and URLs as attributes, env() (the COMMS_TEST_* variables a test passes to the service),
and start_seconds (how long the last start took). Use it as a context manager, or through the
pytest fixtures in conftest.py. docs/testing.md describes each peer.

    RabbitMQ            rabbitmq-server 3.10 run directly (no systemd), own epmd, own node name
    Postgres            initdb + postgres 15 as the `postgres` OS user, TCP on 127.0.0.1
    Redis               redis-server, no persistence
    SmtpCapture         tests/peers/smtp_capture.py (aiosmtpd), optional STARTTLS/implicit TLS/AUTH
    Kannel              bearerbox + smsbox + fakesmsc (kannel-extras), internal DLR storage
    FakeAfricasTalking  tests/peers/fake_africastalking.py

Cleanup is layered: stop()/close() (fixture finalizers), atexit, and a reaper process that holds
the read end of a pipe: when this Python process dies in any way (even SIGKILL), the reaper sees
EOF and kills every process group that was still registered, then removes their temp dirs.

Command line, for humans (the processes outlive the command; state is kept in DIR/peer-state.json):
    /usr/bin/python3 tests/integration/peers.py rabbitmq start [--dir D]   # prints KEY=VALUE lines
    /usr/bin/python3 tests/integration/peers.py rabbitmq stop --dir D
    ...                                         {restart,status,env,clean} --dir D
Peers: rabbitmq, postgres, redis, smtp, kannel, africastalking.
"""

from __future__ import annotations

import argparse
import atexit
import email
import email.policy
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PEERS_DIR = REPO / "tests" / "peers"
PYTHON = os.environ.get("COMMS_TEST_PYTHON", "/usr/bin/python3")
PG_BIN = Path(os.environ.get("COMMS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
RABBITMQ_SBIN = Path("/usr/lib/rabbitmq/bin")
EPMD = "/usr/bin/epmd"
REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
TMP_PREFIX = "comms-peer-"
STATE_FILE = "peer-state.json"

# Every (peer, seconds) start measured in this process; conftest prints them at the end.
TIMINGS: list[tuple[str, str, float]] = []


class PeerError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# small helpers

def free_port(host: str = "127.0.0.1", exclude: set[int] | None = None) -> int:
    """A port that was free a moment ago (bind to 0, read it, release it)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if not exclude or port not in exclude:
            return port
    raise PeerError("no free port")


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(pred, timeout: float, what: str, interval: float = 0.05, check=None):
    """Polls pred() until it returns a truthy value; check() may raise to abort early."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if check:
            check()
        if time.monotonic() > deadline:
            raise PeerError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def http_json(method: str, url: str, body=None, timeout: float = 10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


# --------------------------------------------------------------------------------------------
# the reaper: kills registered process groups when this process dies

_REAPER_CODE = r"""
import os, shutil, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
groups, dirs = set(), set()
for line in sys.stdin:
    op, _, arg = line.strip().partition(" ")
    if op == "+g": groups.add(int(arg))
    elif op == "-g": groups.discard(int(arg))
    elif op == "+d": dirs.add(arg)
    elif op == "-d": dirs.discard(arg)
for sig in (signal.SIGTERM, signal.SIGKILL):
    for g in list(groups):
        try: os.killpg(g, sig)
        except OSError: groups.discard(g)
    end = time.time() + 5
    while groups and time.time() < end:
        for g in list(groups):
            try: os.killpg(g, 0)
            except OSError: groups.discard(g)
        time.sleep(0.1)
for d in dirs:
    shutil.rmtree(d, ignore_errors=True)
"""


class _Reaper:
    def __init__(self):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pid = None

    def _send(self, line: str):
        with self._lock:
            if self._proc is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._proc = subprocess.Popen(
                    [PYTHON, "-c", _REAPER_CODE], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True, text=True, bufsize=1)
            try:
                self._proc.stdin.write(line + "\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                self._proc = None

    def add_group(self, pgid: int):
        self._send(f"+g {pgid}")

    def remove_group(self, pgid: int):
        if self._proc is not None:
            self._send(f"-g {pgid}")

    def add_dir(self, path: Path):
        self._send(f"+d {path}")

    def remove_dir(self, path: Path):
        if self._proc is not None:
            self._send(f"-d {path}")

    def close(self):
        with self._lock:
            if self._proc is not None and self._pid == os.getpid():
                try:
                    self._proc.stdin.close()
                    self._proc.wait(timeout=10)
                except Exception:
                    pass
                self._proc = None


_REAPER = _Reaper()


# --------------------------------------------------------------------------------------------
# one process group

class Proc:
    """A process started in its own session/process group; stop() signals the whole group."""

    def __init__(self, name: str, argv: list[str], *, cwd: Path, log: Path, env: dict | None = None,
                 user: str | None = None, reap: bool = True, stdin=subprocess.DEVNULL):
        self.name, self.argv, self.log = name, [str(a) for a in argv], Path(log)
        self._reap = reap
        kwargs = {}
        if user and os.geteuid() == 0:
            pw = pwd.getpwnam(user)
            kwargs.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        with open(self.log, "ab") as logf:
            self.popen = subprocess.Popen(
                self.argv, cwd=str(cwd), env=env, stdin=stdin, stdout=logf, stderr=subprocess.STDOUT,
                start_new_session=True, **kwargs)
        self.pid = self.popen.pid
        if reap:
            _REAPER.add_group(self.pid)

    @classmethod
    def attach(cls, state: dict) -> "Proc":
        """A Proc for a group started by another process (the CLI), from saved state."""
        p = cls.__new__(cls)
        p.name, p.argv, p.log, p.pid = state["name"], state["argv"], Path(state["log"]), state["pid"]
        p.popen, p._reap = None, False
        return p

    def state(self) -> dict:
        return {"name": self.name, "argv": self.argv, "log": str(self.log), "pid": self.pid}

    def running(self) -> bool:
        """True while the group leader runs."""
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            with open(f"/proc/{self.pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            stat = Path(f"/proc/{self.pid}/stat").read_text()
            return stat.rsplit(")", 1)[1].split()[0] != "Z" and bool(cmd[0])
        except OSError:
            return False

    def group_alive(self) -> bool:
        """True while any non-zombie process is in the group (orphaned zombies wait for init
        to reap them, which may take a while, so killpg(pgid, 0) alone would say "alive")."""
        if self.popen is not None:
            self.popen.poll()
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == self.pid:
                return True
        return False

    def send_signal(self, sig: int, group: bool = True):
        try:
            if group:
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def check(self):
        """Raises if the leader has exited (used while waiting for readiness)."""
        if not self.running():
            code = self.popen.returncode if self.popen is not None else "?"
            raise PeerError(f"{self.name} exited with {code}; log {self.log}:\n{tail(self.log)}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20, group_sig: bool = True):
        if self.popen is None and not self.running():
            # Attached and already gone: never signal a pgid that may have been reused.
            return
        if self.popen is not None and self.popen.poll() is not None and not self.group_alive():
            if self._reap:
                _REAPER.remove_group(self.pid)
            return
        self.send_signal(sig, group=group_sig)
        deadline = time.monotonic() + timeout
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.group_alive():
            self.send_signal(signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.group_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
        if self.popen is not None:
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._reap:
            _REAPER.remove_group(self.pid)

    def kill(self):
        self.stop(signal.SIGKILL, timeout=10)


# --------------------------------------------------------------------------------------------
# the peer base class

_LIVE: "set[Peer]" = set()
_LIVE_LOCK = threading.Lock()


class Peer:
    name = "peer"
    env_prefix = "COMMS_TEST_"

    def __init__(self, dir: str | Path | None = None, *, reap: bool = True):
        self._own_dir = dir is None
        self.dir = Path(dir) if dir else Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{self.name}-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self._reap = reap
        self.procs: dict[str, Proc] = {}
        self.started = False
        self.start_seconds: float | None = None
        if reap:
            with _LIVE_LOCK:
                _LIVE.add(self)
            if self._own_dir:
                _REAPER.add_dir(self.dir)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "Peer":
        if self.started:
            return self
        t0 = time.monotonic()
        try:
            self._start()
        except BaseException:
            self._stop_procs(kill=True)
            raise
        self.start_seconds = time.monotonic() - t0
        TIMINGS.append((self.name, "start", self.start_seconds))
        self.started = True
        return self

    def stop(self):
        """Graceful stop of everything this peer started; data dir and ports are kept."""
        t0 = time.monotonic()
        was_running = bool(self.procs)
        self._stop()
        self.started = False
        if was_running:
            TIMINGS.append((self.name, "stop", time.monotonic() - t0))

    def restart(self) -> "Peer":
        """stop() then start() on the same ports and data dir."""
        t0 = time.monotonic()
        self.stop()
        self.start()
        TIMINGS.append((self.name, "restart", time.monotonic() - t0))
        return self

    def kill(self):
        """Abrupt crash: SIGKILL to every process group. start() again to recover."""
        self._stop_procs(kill=True)
        self.started = False

    def pause(self):
        """SIGSTOP every process: the port still accepts connections but nothing answers."""
        for p in self.procs.values():
            p.send_signal(signal.SIGSTOP)

    def resume(self):
        for p in self.procs.values():
            p.send_signal(signal.SIGCONT)

    def close(self):
        """stop(), then remove the temp dir if this object created it."""
        try:
            self.resume()
            self.stop()
        finally:
            if self._own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)
                if self._reap:
                    _REAPER.remove_dir(self.dir)
            with _LIVE_LOCK:
                _LIVE.discard(self)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- for subclasses ----------------------------------------------------------------------
    def _start(self):
        raise NotImplementedError

    def _stop(self):
        self._stop_procs()

    def _stop_procs(self, kill: bool = False, order: list[str] | None = None):
        names = order or list(reversed(list(self.procs)))
        for name in names:
            p = self.procs.pop(name, None)
            if p is None:
                continue
            p.send_signal(signal.SIGCONT)
            p.kill() if kill else p.stop()
        for name in list(self.procs):
            self.procs.pop(name).kill()

    def _spawn(self, key: str, argv, *, env=None, user=None, cwd=None, log=None) -> Proc:
        p = Proc(f"{self.name}/{key}", argv, cwd=cwd or self.dir, log=log or self.dir / f"{key}.log",
                 env=env, user=user, reap=self._reap)
        self.procs[key] = p
        return p

    def _check_procs(self):
        for p in self.procs.values():
            p.check()

    def env(self) -> dict[str, str]:
        return {}

    # -- CLI state ---------------------------------------------------------------------------
    def settings(self) -> dict:
        """Constructor keyword arguments that recreate this peer (ports included)."""
        return {}

    def save_state(self):
        state = {"peer": self.name, "settings": self.settings(), "started": self.started,
                 "start_seconds": self.start_seconds,
                 "procs": {k: p.state() for k, p in self.procs.items()}, "env": self.env()}
        tmp = self.dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        os.replace(tmp, self.dir / STATE_FILE)

    @staticmethod
    def load_state(dir: str | Path) -> "Peer":
        dir = Path(dir)
        state = json.loads((dir / STATE_FILE).read_text())
        cls = PEER_CLASSES[state["peer"]]
        peer = cls(dir=dir, reap=False, **state["settings"])
        peer.procs = {k: Proc.attach(v) for k, v in state["procs"].items()}
        peer.started = state["started"] and any(p.running() for p in peer.procs.values())
        peer.start_seconds = state.get("start_seconds")
        return peer


@atexit.register
def _cleanup_all():
    with _LIVE_LOCK:
        live = list(_LIVE)
    for peer in live:
        try:
            peer.close()
        except Exception as e:  # keep cleaning the others
            print(f"peers: cleanup of {peer.name} failed: {e}", file=sys.stderr)
    _REAPER.close()


# --------------------------------------------------------------------------------------------
# RabbitMQ

class RabbitMQ(Peer):
    """rabbitmq-server 3.10 with its own node name, epmd, ports, config and Mnesia dir.

    Attributes: port (AMQP), dist_port, epmd_port, nodename, user, password, url
    (amqp://guest:guest@127.0.0.1:PORT/%2F), dir. Extra: ctl(*args) runs rabbitmqctl against
    this node; kill() crashes it (SIGKILL); restart() keeps port, node name and Mnesia (durable
    queues and persistent messages survive)."""

    name = "rabbitmq"

    def __init__(self, dir=None, *, port: int | None = None, dist_port: int | None = None,
                 epmd_port: int | None = None, nodename: str | None = None, user: str = "guest",
                 password: str = "guest", reap: bool = True, start_timeout: float = 120):
        super().__init__(dir, reap=reap)
        self.port, self.dist_port, self.epmd_port = port, dist_port, epmd_port
        self.nodename = nodename or f"comms-test-{secrets.token_hex(4)}@localhost"
        self.user, self.password = user, password
        self.start_timeout = start_timeout

    def settings(self):
        return dict(port=self.port, dist_port=self.dist_port, epmd_port=self.epmd_port,
                    nodename=self.nodename, user=self.user, password=self.password)

    @property
    def url(self) -> str:
        return f"amqp://{self.user}:{self.password}@127.0.0.1:{self.port}/%2F"

    def env(self):
        return {"COMMS_TEST_AMQP_URL": self.url, "COMMS_TEST_AMQP_PORT": str(self.port)}

    def _ports(self):
        used: set[int] = set()
        for attr in ("port", "dist_port", "epmd_port"):
            if getattr(self, attr) is None:
                setattr(self, attr, free_port(exclude=used))
            used.add(getattr(self, attr))

    def _node_env(self) -> dict:
        d = self.dir
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update({
            "HOME": str(d / "home"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_PID_FILE": str(d / "rabbitmq.pid"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": str(d / "plugins-expand"),
            # Don't busy-wait the schedulers: the test machine has 2 shared cores.
            # Distribution on loopback only.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "+sbwt none +sbwtdcpu none +sbwtdio none "
                                                   "-kernel inet_dist_use_interface {127,0,0,1}",
            # rabbitmqctl's own distribution ports: any free one.
            "RABBITMQ_CTL_DIST_PORT_MIN": "0",
            "RABBITMQ_CTL_DIST_PORT_MAX": "0",
            "RABBITMQ_CTL_ERL_ARGS": "+sbwt none -kernel inet_dist_use_interface {127,0,0,1}",
        })
        return env

    def _write_config(self):
        d = self.dir
        for sub in ("home", "mnesia", "log", "plugins-expand"):
            (d / sub).mkdir(exist_ok=True)
        cookie = d / "home" / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(secrets.token_hex(16))
            cookie.chmod(0o400)
        (d / "rabbitmq.conf").write_text("\n".join([
            f"listeners.tcp.1 = 127.0.0.1:{self.port}",
            "loopback_users = none",
            f"default_user = {self.user}",
            f"default_pass = {self.password}",
            "log.console = false",
            "log.file.level = info",
            "disk_free_limit.absolute = 10MB",
            "", ]))
        (d / "rabbitmq-env.conf").write_text("")
        (d / "enabled_plugins").write_text("[].\n")

    def _amqp_ready(self) -> bool:
        """The broker answers an AMQP 0-9-1 header with Connection.Start, and the login works."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"AMQP\x00\x00\x09\x01")
                s.settimeout(2)
                head = s.recv(7)
                if not head.startswith(b"\x01\x00\x00"):
                    return False
        except OSError:
            return False
        try:
            import pika
        except ImportError:
            return True
        try:
            params = pika.URLParameters(self.url + "?connection_attempts=1&socket_timeout=3")
            pika.BlockingConnection(params).close()
            return True
        except Exception:
            return False

    def _start(self):
        self._ports()
        self._write_config()
        env = self._node_env()
        if "epmd" not in self.procs:
            epmd = self._spawn("epmd", [EPMD, "-port", self.epmd_port, "-address", "127.0.0.1"],
                               env=env)
            wait_for(lambda: port_open(self.epmd_port), 10, "epmd", check=epmd.check)
        server = self._spawn("server", [RABBITMQ_SBIN / "rabbitmq-server"], env=env)
        wait_for(self._amqp_ready, self.start_timeout, f"RabbitMQ on port {self.port}",
                 interval=0.2, check=server.check)

    def _stop(self):
        server = self.procs.pop("server", None)
        if server:
            # SIGTERM to the wrapper script only: it forwards TERM to the VM (graceful stop).
            server.stop(signal.SIGTERM, timeout=60, group_sig=False)
        self._stop_procs()

    def stop_broker_only(self):
        """Stop the broker but keep epmd (a slightly faster restart)."""
        server = self.procs.pop("server", None)
        if server:
            server.stop(signal.SIGTERM, timeout=60, group_sig=False)
        self.started = False

    def ctl(self, *args: str, timeout: float = 60) -> str:
        """Runs rabbitmqctl against this node and returns stdout (raises on failure)."""
        out = subprocess.run([str(RABBITMQ_SBIN / "rabbitmqctl"), "-n", self.nodename, *args],
                             env=self._node_env(), capture_output=True, text=True, timeout=timeout,
                             cwd=self.dir)
        if out.returncode != 0:
            raise PeerError(f"rabbitmqctl {' '.join(args)} failed: {out.stdout}{out.stderr}")
        return out.stdout


# --------------------------------------------------------------------------------------------
# PostgreSQL

class Postgres(Peer):
    """PostgreSQL 15: initdb into DIR/data (owned by the `postgres` OS user), postgres on
    127.0.0.1:port with its unix socket in DIR/sock, one login role and database.

    Attributes: port, user, password, database, url (postgres://user:pass@127.0.0.1:port/db),
    socket_dir, dir. Extra: psql(sql, database=None) as superuser; create_database() /
    drop_database() for a fresh database per test; url_for(database). fsync is off (tests)."""

    name = "postgres"

    def __init__(self, dir=None, *, port: int | None = None, user: str = "comms",
                 password: str | None = None, database: str = "comms", os_user: str = "postgres",
                 settings: dict | None = None, reap: bool = True):
        super().__init__(dir, reap=reap)
        self.port = port
        self.user, self.database = user, database
        self.password = password or f"pw-{secrets.token_hex(8)}"
        self.os_user = os_user if os.geteuid() == 0 else None
        self.extra_settings = settings or {}
        self.socket_dir = self.dir / "sock"
        self.data_dir = self.dir / "data"

    def settings(self):
        return dict(port=self.port, user=self.user, password=self.password,
                    database=self.database, os_user=self.os_user or "postgres",
                    settings=self.extra_settings)

    def url_for(self, database: str) -> str:
        return (f"postgres://{urllib.parse.quote(self.user)}:{urllib.parse.quote(self.password)}"
                f"@127.0.0.1:{self.port}/{database}")

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def env(self):
        return {"COMMS_TEST_PG_URL": self.url, "COMMS_TEST_PG_PORT": str(self.port)}

    def _run_as_owner(self, argv, **kw):
        kwargs = {}
        if self.os_user:
            pw = pwd.getpwnam(self.os_user)
            kwargs.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        return subprocess.run([str(a) for a in argv], cwd=self.dir, capture_output=True, text=True,
                              **kwargs, **kw)

    def _initdb(self):
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.socket_dir.mkdir(exist_ok=True)
        if self.os_user:
            pw = pwd.getpwnam(self.os_user)
            for p in (self.dir, self.socket_dir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        r = self._run_as_owner([PG_BIN / "initdb", "-D", self.data_dir, "-U", "postgres",
                                "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust",
                                "--auth-host=scram-sha-256", "--no-sync", "--no-instructions"])
        if r.returncode != 0:
            raise PeerError(f"initdb failed:\n{r.stdout}{r.stderr}")

    def _ready(self) -> bool:
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready" and port_open(self.port)

    def _start(self):
        if self.port is None:
            self.port = free_port()
        self._initdb()
        settings = {"listen_addresses": "127.0.0.1", "fsync": "off", "synchronous_commit": "off",
                    "full_page_writes": "off", "max_connections": "100", "shared_buffers": "32MB",
                    "logging_collector": "off", "log_min_messages": "warning"}
        settings.update(self.extra_settings)
        argv = [PG_BIN / "postgres", "-D", self.data_dir, "-p", self.port,
                "-k", self.socket_dir]
        for k, v in settings.items():
            argv += ["-c", f"{k}={v}"]
        proc = self._spawn("postgres", argv, user=self.os_user)
        wait_for(self._ready, 60, f"PostgreSQL on port {self.port}", check=proc.check)
        marker = self.dir / "roles-created"
        if not marker.exists():
            q_user = self.user.replace('"', '""')
            q_pw = self.password.replace("'", "''")
            self.psql(f'CREATE ROLE "{q_user}" LOGIN PASSWORD \'{q_pw}\' CREATEDB')
            self.psql(f'CREATE DATABASE "{self.database}" OWNER "{q_user}"')
            marker.write_text("ok\n")

    def _stop(self):
        p = self.procs.pop("postgres", None)
        if p:
            # SIGINT = fast shutdown (SIGTERM would wait for clients to disconnect).
            p.stop(signal.SIGINT, timeout=30, group_sig=False)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Runs SQL as the superuser over the unix socket; returns unaligned tuples-only output."""
        r = subprocess.run([str(PG_BIN / "psql"), "-h", str(self.socket_dir), "-p", str(self.port),
                            "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise PeerError(f"psql failed: {r.stderr}")
        return r.stdout

    def create_database(self, name: str | None = None) -> str:
        """A new empty database owned by `user`; returns its URL."""
        name = name or f"t_{secrets.token_hex(6)}"
        self.psql(f'CREATE DATABASE "{name}" OWNER "{self.user}"')
        return self.url_for(name)

    def drop_database(self, name: str):
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------
# Redis

class Redis(Peer):
    """redis-server on 127.0.0.1:port, no RDB/AOF, working dir DIR.

    Attributes: port, password (None = no AUTH), url (redis://[:pw@]127.0.0.1:port/0).
    Extra: cli(*args) runs redis-cli. stop()/start() (or kill()/pause()) for outage tests."""

    name = "redis"

    def __init__(self, dir=None, *, port: int | None = None, password: str | None = None,
                 reap: bool = True):
        super().__init__(dir, reap=reap)
        self.port, self.password = port, password

    def settings(self):
        return dict(port=self.port, password=self.password)

    @property
    def url(self) -> str:
        auth = f":{urllib.parse.quote(self.password)}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def env(self):
        return {"COMMS_TEST_REDIS_URL": self.url, "COMMS_TEST_REDIS_PORT": str(self.port)}

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def _start(self):
        if self.port is None:
            self.port = free_port()
        argv = [REDIS_SERVER, "--port", self.port, "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
                "--logfile", "", "--loglevel", "warning"]
        if self.password:
            argv += ["--requirepass", self.password]
        proc = self._spawn("redis", argv)
        wait_for(self._ping, 20, f"Redis on port {self.port}", check=proc.check)

    def cli(self, *args: str) -> str:
        argv = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port)]
        env = dict(os.environ)
        if self.password:
            env["REDISCLI_AUTH"] = self.password
        r = subprocess.run(argv + list(args), capture_output=True, text=True, timeout=30, env=env)
        if r.returncode != 0:
            raise PeerError(f"redis-cli failed: {r.stderr}")
        return r.stdout


# --------------------------------------------------------------------------------------------
# SMTP capture

class SmtpCapture(Peer):
    """tests/peers/smtp_capture.py: an aiosmtpd server that stores each message in DIR/mail.

    tls: "none" (plain smtp://), "starttls" (STARTTLS offered; require_starttls to insist),
    "implicit" (TLS from the first byte, smtps://). auth=True enables AUTH PLAIN/LOGIN with
    user/password (after STARTTLS when tls="starttls"); require_auth refuses MAIL before AUTH.
    Attributes: port, url, user, password, cert_file (the self-signed CA/cert for clients),
    mail_dir. Extra: messages(), wait_for_messages(n), clear(), set_behaviour(...)."""

    name = "smtp"

    def __init__(self, dir=None, *, port: int | None = None, tls: str = "none", auth: bool = False,
                 user: str = "comms", password: str = "smtp-secret", require_auth: bool = False,
                 require_starttls: bool = False, reap: bool = True):
        super().__init__(dir, reap=reap)
        if tls not in ("none", "starttls", "implicit"):
            raise ValueError("tls must be none, starttls or implicit")
        self.port, self.tls, self.auth = port, tls, auth
        self.user, self.password = user, password
        self.require_auth, self.require_starttls = require_auth, require_starttls
        self.mail_dir = self.dir / "mail"
        self.cert_file = self.dir / "cert.pem"
        self.key_file = self.dir / "key.pem"
        self.control_file = self.dir / "control.json"

    def settings(self):
        return dict(port=self.port, tls=self.tls, auth=self.auth, user=self.user,
                    password=self.password, require_auth=self.require_auth,
                    require_starttls=self.require_starttls)

    @property
    def url(self) -> str:
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        auth = (f"{urllib.parse.quote(self.user)}:{urllib.parse.quote(self.password)}@"
                if self.auth else "")
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    def env(self):
        env = {"COMMS_TEST_SMTP_URL": self.url, "COMMS_TEST_SMTP_PORT": str(self.port),
               "COMMS_TEST_SMTP_MAIL_DIR": str(self.mail_dir)}
        if self.tls != "none":
            env["COMMS_TEST_SMTP_CA_FILE"] = str(self.cert_file)
        return env

    def _make_cert(self):
        if self.cert_file.exists():
            return
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7",
                            "-subj", "/CN=localhost", "-addext",
                            "subjectAltName=DNS:localhost,IP:127.0.0.1",
                            "-keyout", str(self.key_file), "-out", str(self.cert_file)],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise PeerError(f"openssl failed: {r.stderr}")

    def _start(self):
        self.mail_dir.mkdir(exist_ok=True)
        ready = self.dir / "smtp-ready.json"
        ready.unlink(missing_ok=True)
        argv = [PYTHON, PEERS_DIR / "smtp_capture.py", "--port", self.port or 0,
                "--dir", self.mail_dir, "--ready-file", ready, "--control-file", self.control_file,
                "--tls", self.tls]
        if self.tls != "none":
            self._make_cert()
            argv += ["--cert", self.cert_file, "--key", self.key_file]
        if self.require_starttls:
            argv.append("--require-starttls")
        if self.auth:
            argv += ["--auth-user", self.user, "--auth-password", self.password]
            if self.require_auth:
                argv.append("--require-auth")
        proc = self._spawn("smtp", argv)
        wait_for(ready.exists, 30, "SMTP capture server", check=proc.check)
        self.port = json.loads(ready.read_text())["port"]

    def set_behaviour(self, *, rcpt_codes: dict[str, str] | None = None, mail_code: str | None = None,
                      data_code: str | None = None, data_delay_ms: int = 0):
        """Failure injection, read by the server on every command. Codes are full replies,
        e.g. rcpt_codes={"bad@example.com": "550 5.1.1 No such user"}, data_code="451 4.3.0 Try
        again later". set_behaviour() with no arguments restores normal acceptance."""
        ctl = {"rcpt_codes": rcpt_codes or {}, "mail_code": mail_code, "data_code": data_code,
               "data_delay_ms": data_delay_ms}
        tmp = self.control_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(ctl))
        os.replace(tmp, self.control_file)

    def messages(self) -> list[dict]:
        """Captured messages in arrival order: the metadata (mail_from, rcpt_tos, auth_login, tls,
        ...) plus "raw" (bytes) and "message" (email.message.EmailMessage)."""
        out = []
        for meta_path in sorted(self.mail_dir.glob("msg-*.json")):
            meta = json.loads(meta_path.read_text())
            raw = (self.mail_dir / meta["eml"]).read_bytes()
            meta["raw"] = raw
            meta["message"] = email.message_from_bytes(raw, policy=email.policy.default)
            out.append(meta)
        return out

    def wait_for_messages(self, count: int, timeout: float = 15) -> list[dict]:
        wait_for(lambda: len(list(self.mail_dir.glob("msg-*.json"))) >= count, timeout,
                 f"{count} captured e-mail(s)")
        return self.messages()

    def clear(self):
        for p in self.mail_dir.glob("msg-*"):
            p.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Kannel

class Kannel(Peer):
    """Kannel 1.4.5: bearerbox + smsbox + fakesmsc (the test SMSC from kannel-extras).

    Attributes: admin_port, smsbox_port, sendsms_port, smsc_port, username, password,
    admin_password, sendsms_url, admin_url, fakesmsc_log (what the SMSC received).
    Extra: sendsms(...) calls the sendsms interface; received() parses fakesmsc's log;
    wait_for_received(n); stop_smsc()/start_smsc() (SMSC outage: sendsms then answers
    "3: Queued for later delivery" and delivers on reconnect); status() = status.txt.
    DLRs: with dlr-mask 1/2 the fake SMSC produces a final "delivered" DLR (type 1) and with
    mask 8 bearerbox produces an "SMSC success" DLR (type 8); never failure types. See
    docs/testing.md."""

    name = "kannel"
    PORT_ATTRS = ("admin_port", "smsbox_port", "sendsms_port", "smsc_port")

    def __init__(self, dir=None, *, admin_port=None, smsbox_port=None, sendsms_port=None,
                 smsc_port=None, username: str = "comms", password: str | None = None,
                 admin_password: str | None = None, log_level: int = 1, reap: bool = True):
        super().__init__(dir, reap=reap)
        self.admin_port, self.smsbox_port = admin_port, smsbox_port
        self.sendsms_port, self.smsc_port = sendsms_port, smsc_port
        self.username = username
        self.password = password or f"k{secrets.token_hex(6)}"
        self.admin_password = admin_password or f"a{secrets.token_hex(6)}"
        self.log_level = log_level
        self.conf = self.dir / "kannel.conf"
        self.fakesmsc_log = self.dir / "fakesmsc.log"

    def settings(self):
        d = {a: getattr(self, a) for a in self.PORT_ATTRS}
        d.update(username=self.username, password=self.password,
                 admin_password=self.admin_password, log_level=self.log_level)
        return d

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def env(self):
        return {"COMMS_TEST_KANNEL_SENDSMS_URL": self.sendsms_url,
                "COMMS_TEST_KANNEL_USERNAME": self.username,
                "COMMS_TEST_KANNEL_PASSWORD": self.password,
                "COMMS_TEST_KANNEL_ADMIN_URL": self.admin_url,
                "COMMS_TEST_KANNEL_ADMIN_PASSWORD": self.admin_password,
                "COMMS_TEST_KANNEL_FAKESMSC_LOG": str(self.fakesmsc_log)}

    def _write_conf(self):
        d = self.dir
        self.conf.write_text(f"""# generated by tests/integration/peers.py
group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = {self.admin_password}
status-password = {self.admin_password}
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.smsbox_port}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "{d}/bearerbox.log"
log-level = {self.log_level}
access-log = "{d}/access.log"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.smsbox_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{d}/smsbox.log"
log-level = {self.log_level}
access-log = "{d}/smsbox-access.log"

group = sendsms-user
username = {self.username}
password = {self.password}
concatenation = true
max-messages = 10

group = sms-service
keyword = default
text = "ok"
omit-empty = true
""")

    def status(self) -> str:
        code, body = http_get(f"{self.admin_url}/status.txt?password={self.admin_password}", 3)
        return body if code == 200 else ""

    def _status_ok(self, want_smsbox: bool) -> bool:
        try:
            st = self.status()
        except OSError:
            return False
        if not st:
            return False
        smsc_online = any(line.strip().startswith("fake") and "online" in line
                          for line in st.splitlines())
        if not want_smsbox:
            return smsc_online
        return smsc_online and "smsbox:" in st and "(on-line" in st.split("Box connections:")[-1]

    def _start_fakesmsc(self):
        # -m 0: send no MO messages, just print every MT as "Got message N: <from to text ...>".
        def try_start():
            p = self._spawn("fakesmsc", [FAKESMSC, "-H", "127.0.0.1", "-r", self.smsc_port,
                                         "-i", "0", "-m", "0", "0 0 text unused"],
                            log=self.fakesmsc_log)
            time.sleep(0.2)
            return p.running()
        wait_for(try_start, 20, "fakesmsc to connect", interval=0.3)

    def _start(self):
        used: set[int] = set()
        for attr in self.PORT_ATTRS:
            if getattr(self, attr) is None:
                setattr(self, attr, free_port(exclude=used))
            used.add(getattr(self, attr))
        self._write_conf()
        bb = self._spawn("bearerbox", [BEARERBOX, "-v", "2", self.conf], log=self.dir / "bearerbox.out")
        wait_for(lambda: port_open(self.admin_port) and self.status(), 30, "bearerbox admin port",
                 interval=0.1, check=bb.check)
        self._start_fakesmsc()
        wait_for(lambda: self._status_ok(False), 30, "fake SMSC online", interval=0.1,
                 check=bb.check)
        sb = self._spawn("smsbox", [SMSBOX, "-v", "2", self.conf], log=self.dir / "smsbox.out")
        wait_for(lambda: port_open(self.sendsms_port) and self._status_ok(True), 30,
                 "smsbox connected and sendsms port open", interval=0.1, check=sb.check)

    def _stop(self):
        self._stop_procs(order=["smsbox", "fakesmsc", "bearerbox"])

    def stop_smsc(self):
        """Disconnect the fake SMSC (messages then queue in bearerbox)."""
        p = self.procs.pop("fakesmsc", None)
        if p:
            p.stop(signal.SIGINT, timeout=10)

    def start_smsc(self):
        if "fakesmsc" not in self.procs:
            self._start_fakesmsc()
            wait_for(lambda: self._status_ok(False), 30, "fake SMSC online", interval=0.1)

    def sendsms(self, to: str, text: str, *, from_: str = "IntelliFin", username: str | None = None,
                password: str | None = None, timeout: float = 10, **extra) -> tuple[int, str]:
        """GET /cgi-bin/sendsms; extra keys are passed as they are (dlr-mask via dlr_mask=...)."""
        q = {"username": username if username is not None else self.username,
             "password": password if password is not None else self.password,
             "from": from_, "to": to, "text": text}
        q.update({k.replace("_", "-"): str(v) for k, v in extra.items()})
        return http_get(f"{self.sendsms_url}?{urllib.parse.urlencode(q)}", timeout)

    @staticmethod
    def simulate_dlr(dlr_url: str, dlr_type: int, *, to: str = "", sender: str = "",
                     smsc_id: str = "fake", foreign_id: str = "", reply: str = "",
                     timeout: float = 10) -> tuple[int, str]:
        """Calls a dlr-url template the way smsbox would, for DLR types fakesmsc never produces
        (2 failed, 4 buffered, 16 SMSC reject). Expands %d %A %F %T %p %P %i %I %%."""
        values = {"d": str(dlr_type), "A": reply, "F": foreign_id, "T": str(int(time.time())),
                  "p": to, "P": sender, "i": smsc_id, "I": foreign_id, "%": "%"}
        out, i = [], 0
        while i < len(dlr_url):
            ch = dlr_url[i]
            if ch == "%" and i + 1 < len(dlr_url) and dlr_url[i + 1] in values:
                key = dlr_url[i + 1]
                out.append("%" if key == "%" else urllib.parse.quote(values[key], safe=""))
                i += 2
            else:
                out.append(ch)
                i += 1
        return http_get("".join(out), timeout)

    def received(self) -> list[dict]:
        """Messages the fake SMSC received, oldest first: {"n", "from", "to", "type", "text"}.
        type "text" carries plain text; "data"/"ucs-2"/"udh" payloads are URL-decoded (ucs-2
        into str)."""
        out = []
        try:
            lines = self.fakesmsc_log.read_text(errors="replace").splitlines()
        except OSError:
            return out
        for line in lines:
            marker = "Got message "
            i = line.find(marker)
            if i < 0 or not line.endswith(">"):
                continue
            n, _, body = line[i + len(marker):].partition(": <")
            body = body[:-1]
            parts = body.split(" ", 3)
            if len(parts) < 4:
                continue
            sender, receiver, typ, payload = parts
            msg = {"n": int(n), "from": sender, "to": receiver, "type": typ, "text": payload}
            if typ == "ucs-2":
                raw = urllib.parse.unquote_to_bytes(payload.replace("+", "%20"))
                msg["text"] = raw.decode("utf-16-be", "replace")
            elif typ in ("data", "udh"):
                msg["data"] = urllib.parse.unquote_to_bytes(payload.replace("+", " "))
            out.append(msg)
        return out

    def wait_for_received(self, count: int, timeout: float = 15) -> list[dict]:
        return wait_for(lambda: (lambda r: r if len(r) >= count else None)(self.received()),
                        timeout, f"{count} message(s) at fakesmsc")


# --------------------------------------------------------------------------------------------
# the fake Africa's Talking server

class FakeAfricasTalking(Peer):
    """tests/peers/fake_africastalking.py as a separate process.

    Attributes: port, control_port, username, api_key, callback_url, base_url,
    messaging_url (base_url + /version1/messaging), control_url. Control helpers: reset(),
    configure(**keys), config(), stats(), messages(), requests(), dlrs(), send_dlr(...), and
    send(to, message, ...) as an API client for tests."""

    name = "africastalking"

    def __init__(self, dir=None, *, port: int | None = None, control_port: int | None = None,
                 username: str = "sandbox", api_key: str | None = None,
                 callback_url: str | None = None, reap: bool = True):
        super().__init__(dir, reap=reap)
        self.port, self.control_port = port, control_port
        self.username = username
        self.api_key = api_key or f"atsk_{secrets.token_hex(12)}"
        self.callback_url = callback_url

    def settings(self):
        return dict(port=self.port, control_port=self.control_port, username=self.username,
                    api_key=self.api_key, callback_url=self.callback_url)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def messaging_url(self) -> str:
        return f"{self.base_url}/version1/messaging"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}/_control"

    def env(self):
        return {"COMMS_TEST_AT_BASE_URL": self.base_url, "COMMS_TEST_AT_USERNAME": self.username,
                "COMMS_TEST_AT_API_KEY": self.api_key, "COMMS_TEST_AT_CONTROL_URL": self.control_url}

    def _start(self):
        ready = self.dir / "at-ready.json"
        ready.unlink(missing_ok=True)
        argv = [PYTHON, PEERS_DIR / "fake_africastalking.py", "--port", self.port or 0,
                "--control-port", self.control_port or 0, "--username", self.username,
                "--api-key", self.api_key, "--ready-file", ready]
        if self.callback_url:
            argv += ["--callback-url", self.callback_url]
        proc = self._spawn("server", argv)
        wait_for(ready.exists, 30, "fake Africa's Talking server", check=proc.check)
        info = json.loads(ready.read_text())
        self.port, self.control_port = info["port"], info["control_port"]

    # control API
    def _ctl(self, method: str, name: str, body=None):
        return http_json(method, f"{self.control_url}/{name}", body)

    def reset(self):
        return self._ctl("POST", "reset", {})

    def configure(self, **keys):
        """Merges keys into the fake's config; see DEFAULT_CONFIG in fake_africastalking.py."""
        return self._ctl("POST", "config", keys)

    def config(self):
        return self._ctl("GET", "config")

    def stats(self):
        return self._ctl("GET", "stats")

    def messages(self):
        return self._ctl("GET", "messages")

    def requests(self):
        return self._ctl("GET", "requests")

    def dlrs(self):
        return self._ctl("GET", "dlrs")

    def send_dlr(self, message_id: str, status: str = "Success", **fields):
        return self._ctl("POST", "dlr", {"messageId": message_id, "status": status, **fields})

    def count(self, number: str, message: str) -> int:
        return sum(1 for m in self.messages() if m["number"] == number and m["message"] == message)

    def send(self, to: str | list[str], message: str, *, sender: str | None = None,
             api_key: str | None = None, username: str | None = None, accept: str = "application/json",
             timeout: float = 10) -> tuple[int, str]:
        """A minimal API client (like the service's): returns (HTTP status, body text)."""
        fields = {"username": self.username if username is None else username,
                  "to": to if isinstance(to, str) else ",".join(to), "message": message}
        if sender:
            fields["from"] = sender
        req = urllib.request.Request(
            self.messaging_url, data=urllib.parse.urlencode(fields).encode(), method="POST",
            headers={"apiKey": self.api_key if api_key is None else api_key, "Accept": accept,
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


# --------------------------------------------------------------------------------------------
# an in-process HTTP sink for callbacks (delivery reports from Kannel or the fake AT)

class HttpSink:
    """A tiny HTTP server in a thread that records every request and answers `status` (200).

    Attributes: port, url (http://127.0.0.1:port), requests (list of dicts: method, path, query
    (dict of lists), form (dict of lists, for form bodies), body (bytes), headers, time).
    wait_for(n, timeout) waits until n requests arrived."""

    def __init__(self, status: int = 200, body: bytes = b"OK"):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        sink = self
        self.requests: list[dict] = []
        self.status, self.body = status, body
        self._cond = threading.Condition()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                split = urllib.parse.urlsplit(self.path)
                form = {}
                if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                                 keep_blank_values=True)
                rec = {"method": self.command, "path": split.path,
                       "query": urllib.parse.parse_qs(split.query, keep_blank_values=True),
                       "form": form, "body": body, "headers": dict(self.headers.items()),
                       "time": time.time()}
                # Recorded before the answer: a client that sends its next request only after this
                # one's answer must find them recorded in that order.
                with sink._cond:
                    sink.requests.append(rec)
                    sink._cond.notify_all()
                self.send_response(sink.status)
                self.send_header("Content-Length", str(len(sink.body)))
                self.end_headers()
                self.wfile.write(sink.body)

            do_GET = do_POST = do_PUT = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 15) -> list[dict]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= count, timeout):
                raise PeerError(f"timed out waiting for {count} request(s) at {self.url}; "
                                f"got {len(self.requests)}")
            return list(self.requests)

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


PEER_CLASSES: dict[str, type[Peer]] = {
    "rabbitmq": RabbitMQ, "postgres": Postgres, "redis": Redis, "smtp": SmtpCapture,
    "kannel": Kannel, "africastalking": FakeAfricasTalking,
}


# --------------------------------------------------------------------------------------------
# command line

def _print_env(peer: Peer):
    for k, v in peer.env().items():
        print(f"{k}={v}")
    print(f"COMMS_TEST_{peer.name.upper()}_PEER_DIR={peer.dir}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Start/stop a test peer outside pytest.")
    ap.add_argument("peer", choices=sorted(PEER_CLASSES))
    ap.add_argument("action", choices=["start", "stop", "restart", "status", "env", "clean"])
    ap.add_argument("--dir", help="state/data dir (start: created if missing; default: a temp dir)")
    ap.add_argument("--port", type=int, help="main port (default: a free one)")
    ap.add_argument("--tls", choices=["none", "starttls", "implicit"], help="smtp only")
    ap.add_argument("--auth", action="store_true", help="smtp only: enable AUTH")
    ap.add_argument("--callback-url", help="africastalking only: delivery report URL")
    args = ap.parse_args(argv)

    if args.action == "start":
        if args.dir and (Path(args.dir) / STATE_FILE).exists():
            peer = Peer.load_state(args.dir)
            if peer.started:
                _print_env(peer)
                return 0
        else:
            kwargs = {}
            if args.port:
                kwargs["port"] = args.port
            if args.peer == "smtp":
                kwargs.update(tls=args.tls or "none", auth=args.auth)
            if args.peer == "africastalking" and args.callback_url:
                kwargs["callback_url"] = args.callback_url
            if args.peer == "kannel" and args.port:
                kwargs = {"sendsms_port": args.port}
            d = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{args.peer}-"))
            peer = PEER_CLASSES[args.peer](dir=d, reap=False, **kwargs)
        peer.start()
        peer.save_state()
        _print_env(peer)
        print(f"# started in {peer.start_seconds:.2f}s", file=sys.stderr)
        return 0

    if not args.dir:
        ap.error(f"{args.action} needs --dir")
    if not (Path(args.dir) / STATE_FILE).exists():
        if args.action == "clean":
            return 0
        print(f"no peer state in {args.dir}", file=sys.stderr)
        return 1
    peer = Peer.load_state(args.dir)
    if args.action == "clean":
        peer.stop()
        shutil.rmtree(args.dir, ignore_errors=True)
    elif args.action == "stop":
        peer.stop()
        peer.save_state()
    elif args.action == "restart":
        peer.restart()
        peer.save_state()
        print(f"# restarted in {peer.start_seconds:.2f}s", file=sys.stderr)
        _print_env(peer)
    elif args.action == "status":
        for k, p in peer.procs.items():
            print(f"{k}: pid {p.pid} {'running' if p.running() else 'stopped'}")
        print("started" if peer.started else "stopped")
    elif args.action == "env":
        _print_env(peer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
