#!/usr/bin/env bash
# Hub benchmark: the SignalR hub (bench_hub_server: comms_hub behind comms_http) against a socket.io
# server doing the same work (JWT check, the same groups, pings every 15 s, one HTTP trigger per
# notification), measured in one run on this machine. Prints a markdown table: RSS per idle
# connection (and connections per GiB), kernel TCP memory per connection, and fan-out latency
# p50/p99 and messages/s when one notification goes to every client.
#
#   bash bench/hub/run.sh [CLIENTS] [LOAD_PROCESSES] [ROUNDS]     defaults: 10000 4 20
#
# The open-file limit is 20,000 per process here, so 10,000 clients is the size; they are spread over
# LOAD_PROCESSES Node processes of raw `ws` clients (SignalR JSON protocol, or engine.io v4 for
# socket.io). Needs cmake, ninja, g++, node/npm; installs socket.io and ws (once) with npm into
# bench/hub/node_modules. The servers get 2 I/O threads (hub) and one event loop (node).
set -euo pipefail
clients="${1:-10000}"
procs="${2:-4}"
rounds="${3:-20}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build-bench-hub"
mkdir -p "$build"

if [[ ! -d "$here/node_modules/socket.io" || ! -d "$here/node_modules/ws" ]]; then
  npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null
fi
if ! cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCOMMS_BUILD_TESTS=OFF \
  >"$build/configure.log" 2>&1; then
  cat "$build/configure.log" >&2
  exit 1
fi
ninja -C "$build" -j2 bench_hub_server >/dev/null

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open files: $(ulimit -n); cores: $(nproc); $(node --version); $(uname -r)" >&2
node "$here/bench.js" --hub-bin "$build/bench_hub_server" --clients "$clients" --procs "$procs" \
  --rounds "$rounds" --json "$build/results.json"
