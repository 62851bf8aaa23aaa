#!/usr/bin/env bash
# Shared by scripts/peers/<name>.sh: start/stop one test peer outside pytest.
#   scripts/peers/<name>.sh start [--dir D] [--port P]   prints KEY=VALUE lines (COMMS_TEST_...)
#   scripts/peers/<name>.sh stop|restart|status|env|clean --dir D
# `clean` stops the peer and deletes D. Without --dir, start makes a temp dir and prints it as
# COMMS_TEST_<NAME>_DIR. Load the variables into a shell with:  set -a; eval "$(... start)"; set +a
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
exec /usr/bin/python3 "$ROOT/tests/integration/peers.py" "$@"
