#!/usr/bin/env bash
# Events/s from RabbitMQ through the bus's consumer (MassTransit envelope decoded, no-op
# handler, ack after the handler) against a plain rabbitmq-c no-op consumer (the broker's
# own limit), side by side on one broker in one run, for several prefetch values.
#
#   bash bench/bus/run.sh [MESSAGES] [PREFETCH...]
#
# Starts its own RabbitMQ through tests/integration/peers.py; see bench/bus/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
bash scripts/setup.sh
apt_ensure rabbitmq-server python3-pika
comms_configure
cmake --build "$BUILD_DIR" --target bench_bus >/dev/null
exec /usr/bin/python3 bench/bus/run.py "$BUILD_DIR/bench_bus" "$@"
