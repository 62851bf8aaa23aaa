#!/usr/bin/env bash
# Issue 4's end-to-end benchmark: events/s from RabbitMQ to dispatched notifications (dev inbox)
# through the real `comms serve`, against the plain rabbitmq-c no-op consumer on the same broker
# in the same run, with p50/p99 latency from publish to dispatch.
#
#   bash bench/bus/e2e.sh [EVENTS]                     # default 20000
#   BENCH_ROUNDS=3 BUILD_DIR=build-e2e bash bench/bus/e2e.sh 20000
#
# Starts its own RabbitMQ through tests/integration/peers.py; see bench/bus/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
bash scripts/setup.sh
apt_ensure rabbitmq-server python3-pika
comms_configure
cmake --build "$BUILD_DIR" --target comms bench_bus >/dev/null
exec /usr/bin/python3 bench/bus/e2e.py "$BUILD_DIR/bench_bus" "$BUILD_DIR/comms" "$@"
