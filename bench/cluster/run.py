"""Issue 7's end-to-end benchmark: events per second from RabbitMQ to dispatched notifications with
one and with two `comms serve` instances sharing one PostgreSQL, one Redis and one RabbitMQ, and
the single instance on embedded SQLite in the same run as the reference point.

    /usr/bin/python3 bench/cluster/run.py BUILD/bench_bus BUILD/comms [EVENTS]

Rounds alternate the PostgreSQL configurations (1, 2, 1, 2 ..., BENCH_ROUNDS each, default 2);
the SQLite reference runs once, after the first pair. Each round: a fresh database
(Postgres.create_database(), or a temp COMMS_DATA_DIR for SQLite), a fresh receive endpoint
(COMMS_BUS_QUEUE) and message namespace (COMMS_BUS_NAMESPACE). The instances start, declare the
queue and its bindings, become ready and stop; the outbox relay's lease they leave behind is
released (a stopped instance keeps it for its 10 s time to live, and the restarted instances would
publish nothing until it expired); EVENTS persistent PaymentReceived envelopes are
published to the type's exchange; the instances start again and drain them. Rate: EVENTS /
(latest sent_at - earliest created_at); the rate from the restart is shown too.

Checked every round: EVENTS notifications for EVENTS distinct events, all SMS, all dispatched
(Sent/Delivered), none failed, EVENTS processed events, EVENTS dev-inbox rows with no notification
id twice, and nothing in the error or skipped queue.

CPU seconds during the drain (utime + stime from /proc): each comms process, the PostgreSQL
server (the postmaster, its live backends and helpers, and the backends it reaped), RabbitMQ
(the server's process tree) and Redis.

BENCH_PG_DURABLE=0 runs PostgreSQL as the test peer does (fsync, synchronous_commit and
full_page_writes off); the default is durable (all three on). BENCH_PG_STATEMENTS=K loads
pg_stat_statements and prints each PostgreSQL round's K statements with the most execution time
(a diagnostic: it costs PostgreSQL some CPU). BENCH_SERVICE_ENV="K=V K=V" adds
environment to every `comms serve`.
"""
import os
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "common"))
from benchkit import TICK, Broker, CommsProcess, peers, run_bench_bus, stat_fields  # noqa: E402

BENCH, COMMS = sys.argv[1], sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 15000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
DURABLE = os.environ.get("BENCH_PG_DURABLE", "1") != "0"
STATEMENTS = int(os.environ.get("BENCH_PG_STATEMENTS", "0"))
SERVICE_ENV = dict(kv.split("=", 1) for kv in os.environ.get("BENCH_SERVICE_ENV", "").split())
TYPE = "PaymentReceived"
DISPATCHED = "status IN ('Sent', 'Delivered')"
# One secret set for every instance of the run, as a deployment shares them.
SECRETS_KEY = secrets.token_hex(32)
JWT_SECRET = "bench-cluster-secret-" + secrets.token_hex(16)


def run(*args) -> dict:
    return run_bench_bus(BENCH, *args)


def process_cpu(pid: int) -> float:
    """utime + stime of one process (all its threads)."""
    f = stat_fields(pid)
    return (int(f[11]) + int(f[12])) / TICK if f else 0.0


def tree_cpu(root: int) -> float:
    """utime + stime of `root`, of every live process in its group or below it, and of the
    children it reaped (cutime + cstime). PostgreSQL's backends come and go with connections and
    each runs in a session of its own (setsid), so they are found as the postmaster's children."""
    procs = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            f = stat_fields(entry.name)
            if f:
                procs[int(entry.name)] = f
    children = {}
    for pid, f in procs.items():
        children.setdefault(int(f[1]), []).append(pid)
    seen = {pid for pid, f in procs.items() if int(f[2]) == root}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            seen.add(pid)
        todo += [c for c in children.get(pid, []) if c not in seen]
    total = sum(int(procs[p][11]) + int(procs[p][12]) for p in seen)
    if root in procs:
        total += int(procs[root][13]) + int(procs[root][14])
    return total / TICK


class Database:
    """The round's database: a fresh PostgreSQL database, or the SQLite file of one instance."""

    def __init__(self, pg: peers.Postgres | None, sqlite_dir: Path | None = None):
        self.pg, self.sqlite_dir = pg, sqlite_dir
        self.name = self.url = None
        self.conn = None
        if pg:
            self.url = pg.create_database()
            self.name = self.url.rsplit("/", 1)[1]

    def query(self, sql: str) -> list[tuple]:
        if self.pg:
            if self.conn is None:
                self.conn = psycopg2.connect(self.url)
                self.conn.autocommit = True
            with self.conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        con = sqlite3.connect(f"file:{self.sqlite_dir / 'comms.db'}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def execute(self, sql: str):
        if self.pg:
            self.query(sql + " RETURNING 1")

    def close(self):
        if self.conn is not None:
            self.conn.close()
        if self.pg:
            self.pg.drop_database(self.name)


class Instance(CommsProcess):
    """One `comms serve` of the cluster."""

    def __init__(self, env: dict):
        super().__init__(COMMS, env, "comms-cluster-")

    def cpu(self) -> float:
        return process_cpu(self.proc.pid)


def wait_dispatched(db: Database, instances: list[Instance], timeout: float = 900):
    """Polls the instances' outcome counters every 250 ms (no load on the database) and, once they
    add up to N, confirms in the database."""
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        for i in instances:
            i.check()
        counted = failed = 0.0
        for i in instances:
            try:
                counted += i.metric("comms_notifications_processed_total", 'status="Sent"') + \
                    i.metric("comms_notifications_processed_total", 'status="Delivered"')
                failed += i.metric("comms_notifications_processed_total", 'status="Failed"')
            except OSError:
                pass  # still starting
        if failed:
            raise SystemExit(f"{failed:.0f} notifications failed:\n{instances[0].log()}")
        if counted >= N:
            (done,), = db.query(f"SELECT COUNT(*) FROM notifications WHERE {DISPATCHED}")
            if done >= N:
                return
        time.sleep(0.25)
    raise SystemExit(f"only {done} of {N} notifications dispatched in {timeout} s")


def settle(db: Database, broker: Broker, queue: str, instances: list[Instance],
           timeout: float = 120) -> bool:
    """Waits until the work the events caused is done: every outbox row published (NotificationSent,
    NotificationDelivered), the queue empty (the services' own NotificationSent deliveries), and
    the consumers idle for 0.5 s. False if that did not happen within `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        (unpublished,), = db.query("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
        consumed = sum(i.metric("comms_bus_acked_total") for i in instances)
        if unpublished == 0 and broker.depth(queue) == 0 and consumed == last:
            return True
        last = consumed
        time.sleep(0.5)
    return False


def round_(label: str, count: int, broker: Broker, redis: peers.Redis, pg: peers.Postgres | None) -> dict:
    tag = uuid.uuid4().hex[:8]
    ns, queue = f"Bench.Cluster{tag}", f"communications-bench-{tag}"
    exchange = f"{ns}:{TYPE}"
    sqlite_dir = Path(tempfile.mkdtemp(prefix="comms-cluster-sqlite-")) if pg is None else None
    db = Database(pg, sqlite_dir)
    env = {
        "COMMS_REDIS": redis.url,
        "COMMS_BUS": broker.url,
        "COMMS_BUS_QUEUE": queue,
        "COMMS_BUS_NAMESPACE": ns,
        "COMMS_SECRETS_KEY": SECRETS_KEY,
        "COMMS_JWT_SECRET": JWT_SECRET,
        "COMMS_RULES_FILE": str(ROOT / "config" / "rules.json"),  # the shipped defaults
        **({"COMMS_DB": db.url} if pg else {}),
        **SERVICE_ENV,
    }
    instances = [Instance(env) for _ in range(count)]
    if sqlite_dir:
        instances[0].env["COMMS_DATA_DIR"] = str(sqlite_dir)
    try:
        for i in instances:  # declare the receive endpoint and bind the type exchanges to it
            i.start()
        for i in instances:
            i.wait_ready()
        for i in instances:
            i.stop()
        # A stopped instance keeps the outbox relay's lease until it expires (10 s): the restarted
        # instances, with new holder ids, would publish nothing until then. Release it, as a
        # stop that handed the lease back would.
        db.execute("DELETE FROM leases WHERE name = 'outbox-relay'")
        run("publish", broker.url, exchange, N, ns, TYPE)
        if broker.depth(queue) != N:
            raise SystemExit(f"queue {queue} holds {broker.depth(queue)} messages, expected {N}")

        if pg and STATEMENTS:
            pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db.name)
            pg.psql("SELECT pg_stat_statements_reset()", db.name)

        def cpu() -> dict:
            return {"comms": [i.cpu() for i in instances],
                    "postgres": tree_cpu(pg.procs["postgres"].pid) if pg else 0.0,
                    "rabbitmq": tree_cpu(broker.pgid), "redis": tree_cpu(redis.procs["redis"].pid)}

        def used(c: dict) -> dict:
            return {k: (v if k == "comms" else v - cpu0[k]) for k, v in c.items()}

        cpu0 = cpu()
        t0 = time.time()
        for i in instances:
            i.start()
        wait_dispatched(db, instances)
        t1 = time.time()
        load = os.getloadavg()[0]
        at_dispatch = used(cpu())
        settled = settle(db, broker, queue, instances)
        t2 = time.time()
        at_settle = used(cpu())

        statements = pg.psql(
            "SELECT format('%s ms in %s calls (%s rows): %s', round(total_exec_time), calls, rows, "
            "left(regexp_replace(query, '\\s+', ' ', 'g'), 110)) FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            f"ORDER BY total_exec_time DESC LIMIT {STATEMENTS}", db.name) if pg and STATEMENTS else ""
        consumed = [i.metric("comms_bus_consumed_total", f'type="{TYPE}"') for i in instances]
        units = sum(i.metric("comms_store_write_units") for i in instances)
        batches = sum(i.metric("comms_store_write_batches") for i in instances)
        (first, last), = db.query("SELECT MIN(created_at), MAX(sent_at) FROM notifications")
        drain = (last - first) / 1000

        # Every event: exactly one SMS notification, dispatched, captured once; nothing set aside.
        sms = "channel = 'sms'"
        (total, events, n_sms, dispatched, failed), = db.query(
            f"SELECT COUNT(*), COUNT(DISTINCT event_id), COUNT(CASE WHEN {sms} THEN 1 END), "
            f"COUNT(CASE WHEN {DISPATCHED} THEN 1 END), COUNT(CASE WHEN status = 'Failed' THEN 1 END) "
            "FROM notifications")
        (processed,), = db.query(f"SELECT COUNT(*) FROM processed_events WHERE event_type = '{TYPE}'")
        (inbox, inbox_ids), = db.query("SELECT COUNT(*), COUNT(DISTINCT notification_id) FROM dev_inbox")
        (orphans,), = db.query("SELECT COUNT(*) FROM dev_inbox d WHERE NOT EXISTS "
                               "(SELECT 1 FROM notifications n WHERE n.id = d.notification_id)")
        error, skipped = broker.depth(f"{queue}_error"), broker.depth(f"{queue}_skipped")
        checks = (f"{N} events -> {total} notifications for {events} distinct events ({n_sms} SMS), "
                  f"{dispatched} dispatched, {failed} failed; {processed} processed events; "
                  f"{inbox} dev-inbox rows for {inbox_ids} distinct notifications ({orphans} unknown); "
                  f"error queue {error}, skipped queue {skipped}; consumed per instance "
                  + " / ".join(f"{c:.0f}" for c in consumed))
        ok = total == events == n_sms == dispatched == processed == inbox == inbox_ids == N \
            and not failed and not orphans and not error and not skipped
        if not ok:
            raise SystemExit(f"{label}: check failed: " + checks)
        busy = (sum(at_dispatch["comms"]) + sum(v for k, v in at_dispatch.items() if k != "comms")) / (t1 - t0)
        return {"label": label, "rate": N / drain, "rate_from_start": N / (t1 - t0), "seconds": drain,
                "wall": t1 - t0, "settled": t2 - t0 if settled else None, "cpu": at_settle,
                "busy": busy, "units": units / N, "batch": units / max(batches, 1), "load": load,
                "checks": checks, "statements": statements}
    finally:
        for i in instances:
            i.close()
        broker.delete_endpoint(queue, [exchange, f"{ns}:NotificationSent", f"{ns}:NotificationDelivered"])
        db.close()
        if sqlite_dir:
            shutil.rmtree(sqlite_dir, ignore_errors=True)


def us_per_event(seconds: float) -> str:
    return f"{seconds / N * 1e6:,.0f}"


def main():
    pg_settings = ({"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
                   if DURABLE else {})
    pg_settings["shared_buffers"] = "128MB"  # PostgreSQL's own default (the test peer uses 32MB)
    if STATEMENTS:
        pg_settings["shared_preload_libraries"] = "pg_stat_statements"
    broker = Broker()
    redis = peers.Redis().start()
    pg = peers.Postgres(settings=pg_settings).start()
    try:
        pg_mode = pg.psql("SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings "
                          "WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', "
                          "'shared_buffers', 'shared_preload_libraries')").strip()
        print(f"{N} persistent {TYPE} envelopes per round (one SMS each to the dev inbox), "
              f"PostgreSQL rounds 1,2 x {ROUNDS} alternating, SQLite x 1; "
              f"RabbitMQ {broker.peer.ctl('version').strip()}, {pg.psql('SHOW server_version').strip()} "
              f"({pg_mode}), Redis; {os.cpu_count()} CPUs shared with other work"
              + (f"; service env {SERVICE_ENV}" if SERVICE_ENV else "") + "\n", flush=True)
        plan = []
        for r in range(ROUNDS):
            plan += [("PostgreSQL, 1 instance", 1, pg), ("PostgreSQL, 2 instances", 2, pg)]
            if r == 0:
                plan.append(("SQLite, 1 instance (reference)", 1, None))
        results = []
        for label, count, peer in plan:
            res = round_(label, count, broker, redis, peer)
            res["instances"] = count
            results.append(res)
            c = res["cpu"]
            settled = f"{res['settled']:.1f} s" if res["settled"] else "not within 120 s"
            print(f"{label}: {res['rate']:,.0f} events/s first intake to last dispatch "
                  f"({res['seconds']:.1f} s; {res['rate_from_start']:,.0f}/s from start, "
                  f"{res['busy']:.2f} CPUs busy); all work done (outbox published, queue empty) after "
                  f"{settled}; CPU s to then: comms " + " + ".join(f"{x:.1f}" for x in c["comms"])
                  + f", postgres {c['postgres']:.1f}, rabbitmq {c['rabbitmq']:.1f}, redis {c['redis']:.1f}; "
                  f"{res['units']:.2f} write units per event in groups of {res['batch']:.1f}; "
                  f"load {res['load']:.1f}\n  {res['checks']}", flush=True)
            for line in res["statements"].splitlines():
                print(f"    {line}", flush=True)

        def of(label):
            return [r for r in results if r["label"] == label]

        labels = [p[0] for p in plan[:3]]
        median = {l: statistics.median(r["rate"] for r in of(l)) for l in labels}
        one = median[labels[0]]
        print("\n| configuration | events/s per round | median | vs 1 instance on PostgreSQL "
              "| CPU µs per event: comms / postgres / rabbitmq / redis = total | CPUs busy in the drain "
              "| load average |")
        print("|---|---:|---:|---:|---|---:|---|")
        for l in labels:
            rs = of(l)
            parts = ("comms", "postgres", "rabbitmq", "redis")
            mean = [statistics.mean(sum(r["cpu"][k]) if k == "comms" else r["cpu"][k] for r in rs)
                    for k in parts]
            busy = statistics.mean(r["busy"] for r in rs)
            rates = " / ".join(f"{r['rate']:,.0f}" for r in rs)
            loads = " / ".join(f"{r['load']:.1f}" for r in rs)
            print(f"| {l} | {rates} | {median[l]:,.0f} | {median[l] / one:.2f} "
                  f"| {' / '.join(us_per_event(m) for m in mean)} = {us_per_event(sum(mean))} "
                  f"| {busy:.2f} | {loads} |")
    finally:
        pg.close()
        redis.close()
        broker.close()


if __name__ == "__main__":
    main()
