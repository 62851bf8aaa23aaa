#!/usr/bin/env bash
# Sets up, builds and runs every test: unit tests, the Mustache spec, and the
# integration tests against real peers (RabbitMQ, PostgreSQL, Redis, SMTP,
# Kannel, the fake Africa's Talking server, the SignalR JS client), which the
# test scripts start on free ports in temp dirs and stop again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
start=$(date +%s)
bash scripts/setup.sh
if [ -f scripts/setup-test-deps.sh ]; then bash scripts/setup-test-deps.sh; fi
comms_configure
cmake --build "$BUILD_DIR"
cd "$BUILD_DIR"
status=0
ctest --output-on-failure --timeout 900 -j "${TEST_JOBS:-2}" || status=$?
echo "test.sh: finished in $(( $(date +%s) - start ))s with status $status"
exit $status
