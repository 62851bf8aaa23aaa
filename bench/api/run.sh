#!/usr/bin/env bash
# POST /api/v1/notifications throughput, p50 and p99, side by side in one run with
# a bare Beast server that answers a fixed body (the reference). Both run on the
# same machine with the same thread count, one after the other, twice each
# (ABAB), and the load generator is the same wrk invocation.
#
#   bash bench/api/run.sh [DURATION_SECONDS] [CONNECTIONS]
#
# Every accepted notification must be durable: after the comms runs the script
# counts the rows in the database and compares with the 202s wrk saw.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
DURATION=${1:-10}
CONNS=${2:-64}
THREADS=${BENCH_THREADS:-2}
bash scripts/setup.sh
apt_ensure wrk sqlite3
comms_configure
cmake --build "$BUILD_DIR" --target comms bench_bare_server >/dev/null

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

export COMMS_DATA_DIR=$work/data COMMS_JWT_SECRET=bench-secret-bench-secret-0123456789abcdef
export COMMS_RATE_LIMIT=0 COMMS_THREADS=$THREADS
TOKEN=$("$BUILD_DIR/comms" token --sub bench --role service)
export BENCH_TOKEN=$TOKEN

run_wrk() {  # url label
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/api/post.lua "$1" > "$work/$2.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$2.txt")
  p50=$(awk -F'[ =]' '/^LATENCY/ {print $3}' "$work/$2.txt")
  p99=$(awk -F'[ =]' '/^LATENCY/ {print $5}' "$work/$2.txt")
  echo "$2 $rps $p50 $p99 $(grep '^STATUS' "$work/$2.txt")"
}

bare_port=$(port)
"$BUILD_DIR/bench_bare_server" "127.0.0.1:$bare_port" "$THREADS" > "$work/bare.log" 2>&1 &
pids+=($!)
comms_port=$(port)
COMMS_HTTP_ADDR=127.0.0.1:$comms_port "$BUILD_DIR/comms" serve > "$work/comms.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$comms_port/health/ready" >/dev/null && curl -s "http://127.0.0.1:$bare_port/" >/dev/null && break
  sleep 0.1
done

results=()
for round in 1 2; do
  results+=("$(run_wrk "http://127.0.0.1:$bare_port/api/v1/notifications" "bare-$round")")
  results+=("$(run_wrk "http://127.0.0.1:$comms_port/api/v1/notifications" "comms-$round")")
done
kill -TERM "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true

accepted=0
for r in "${results[@]}"; do
  case $r in comms-*) a=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' <<<"$r"); accepted=$((accepted + a));; esac
done
rows=$(sqlite3 "$work/data/comms.db" "select count(*) from notifications")

echo
echo "threads=$THREADS connections=$CONNS duration=${DURATION}s cores=$(nproc)"
printf '%-8s %12s %10s %10s  %s\n' run req/s p50_ms p99_ms statuses
for r in "${results[@]}"; do printf '%-8s %12s %10s %10s  %s\n' $r; done
bare=$(printf '%s\n' "${results[@]}" | awk '/^bare/ {s+=$2; n++} END {print s/n}')
comms=$(printf '%s\n' "${results[@]}" | awk '/^comms/ {s+=$2; n++} END {print s/n}')
echo "mean bare: $bare req/s; mean comms: $comms req/s; ratio comms/bare: $(awk -v a="$comms" -v b="$bare" 'BEGIN {printf "%.2f", a/b}')"
# wrk stops with up to CONNS requests in flight per run: those rows exist but their 202 was not counted.
echo "durability: wrk saw $accepted x 202; database holds $rows notifications"
[ "$rows" -ge "$accepted" ] || { echo "MISMATCH: accepted notifications are missing from the database" >&2; exit 1; }
