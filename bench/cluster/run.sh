#!/usr/bin/env bash
# Issue 7's end-to-end benchmark: events/s from RabbitMQ to dispatched notifications (dev inbox)
# with one and with two `comms serve` instances on one PostgreSQL (durable: fsync and
# synchronous_commit on), one Redis and one RabbitMQ, and one instance on SQLite as the reference,
# with the CPU seconds of every process involved.
#
#   bash bench/cluster/run.sh [EVENTS]                 # default 15000
#   BENCH_ROUNDS=3 BUILD_DIR=build-main bash bench/cluster/run.sh 20000
#
# Starts its own servers through tests/integration/peers.py; see bench/cluster/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
bash scripts/setup.sh
bash scripts/setup-test-deps.sh
comms_configure
cmake --build "$BUILD_DIR" --target comms bench_bus >/dev/null
exec /usr/bin/python3 bench/cluster/run.py "$BUILD_DIR/bench_bus" "$BUILD_DIR/comms" "$@"
