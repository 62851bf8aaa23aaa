#!/usr/bin/env bash
# The store's write path on SQLite and PostgreSQL side by side: units of work per second (one
# notification + one outbox row each) from 1, 16 and 64 submitters, with each backend's reference
# (SQLite: one commit per unit; PostgreSQL: one autocommit INSERT per row and round trip, one
# connection per submitter). See bench/store/README.md.
#
#   bash bench/store/run.sh [SECONDS] [SUBMITTERS]
#
# PostgreSQL runs twice: as the test peer (tests/integration/peers.py: fsync and synchronous_commit
# off, so commits cost no disk flush) and durable (fsync and synchronous_commit on, as in
# production). Both are started on free ports in temp dirs and removed again.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SECONDS_PER_ROW=${1:-3}
SUBMITTERS=${2:-1,16,64}
comms_configure
cmake --build "$BUILD_DIR" --target bench_store >/dev/null

PY=/usr/bin/python3
fast_dir=$(mktemp -d) durable_dir=$(mktemp -d)
cleanup() {
  $PY tests/integration/peers.py postgres clean --dir "$fast_dir" >/dev/null 2>&1 || true
  $PY tests/integration/peers.py postgres clean --dir "$durable_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
setting() { grep "^$1=" | cut -d= -f2-; }
fast_url=$($PY tests/integration/peers.py postgres start --dir "$fast_dir" 2>/dev/null | setting COMMS_TEST_PG_URL)
durable_url=$(cd tests/integration && $PY -c '
import sys, peers
p = peers.Postgres(dir=sys.argv[1], reap=False,
                   settings={"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"})
p.start(); p.save_state(); print(p.url)' "$durable_dir")

echo "## PostgreSQL as the test peer (fsync off), SQLite as configured ($(nproc) cores, ${SECONDS_PER_ROW}s a row)"
"$BUILD_DIR/bench_store" --seconds "$SECONDS_PER_ROW" --submitters "$SUBMITTERS" --pg "$fast_url"
echo
echo "## PostgreSQL durable (fsync on, synchronous_commit on)"
"$BUILD_DIR/bench_store" --seconds "$SECONDS_PER_ROW" --submitters "$SUBMITTERS" --pg "$durable_url" --only postgres
