#!/usr/bin/env bash
# Sets up, builds and starts the service on embedded defaults (SQLite under
# ./data, in-process bus, in-memory cache, dev inbox). Extra arguments go to
# `comms serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
bash scripts/setup.sh
comms_configure
cmake --build "$BUILD_DIR" --target comms
exec "$BUILD_DIR/comms" serve "$@"
