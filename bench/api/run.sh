#!/usr/bin/env bash
# POST /api/v1/notifications throughput, p50 and p99, side by side in one run with
# a bare Beast server that answers a fixed body (the reference). Both run on the
# same machine with the same thread count, one after the other, twice each
# (ABAB), and the load generator is the same wrk invocation.
#
#   bash bench/api/run.sh [DURATION_SECONDS] [CONNECTIONS]
#
# comms runs twice per round: with the default synchronous=FULL (a 202 means the row
# survived even a power loss: the WAL was fdatasync'ed) and with COMMS_DB_SYNC_FULL=false
# (the WAL is written before the 202, so a killed process loses nothing, but the OS may
# still hold it at a power loss). Each comms run starts on a fresh database.
# Every accepted notification must be durable: after each comms run the script counts
# the rows in the database and compares the total with the 202s wrk saw. It also
# measures one fdatasync in the data directory, the floor under every commit.
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
comms_pid=""
cleanup() {
  for p in "${pids[@]}" $comms_pid; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
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
start_comms() {  # sync_full
  rm -rf "$work/data"
  COMMS_DB_SYNC_FULL=$1 COMMS_HTTP_ADDR=127.0.0.1:$comms_port "$BUILD_DIR/comms" serve > "$work/comms.log" 2>&1 &
  comms_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$comms_port/health/ready" >/dev/null && break; sleep 0.1; done
}
stop_comms() {  # counts the rows the run left, then stops the server
  kill -TERM "$comms_pid"; wait "$comms_pid" 2>/dev/null || true
  rows=$((rows + $(sqlite3 "$work/data/comms.db" "select count(*) from notifications")))
}
for _ in $(seq 100); do curl -s "http://127.0.0.1:$bare_port/" >/dev/null && break; sleep 0.1; done

# The floor under every durable commit: one fdatasync of a 4 KiB write in the data directory.
mkdir -p "$work/data"
fsync_ms=$(python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)
t = time.perf_counter()
for _ in range(100):
    os.pwrite(fd, b"x" * 4096, 0); os.fdatasync(fd)
print("%.2f" % ((time.perf_counter() - t) * 10))' "$work/data/fsync-probe")
rm -f "$work/data/fsync-probe"

results=()
rows=0
for round in 1 2; do
  results+=("$(run_wrk "http://127.0.0.1:$bare_port/api/v1/notifications" "bare-$round")")
  start_comms true
  results+=("$(run_wrk "http://127.0.0.1:$comms_port/api/v1/notifications" "comms-$round")")
  stop_comms
  start_comms false
  results+=("$(run_wrk "http://127.0.0.1:$comms_port/api/v1/notifications" "normal-$round")")
  stop_comms
done

accepted=0
for r in "${results[@]}"; do
  case $r in comms-* | normal-*) a=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' <<<"$r"); accepted=$((accepted + a));; esac
done

echo
echo "threads=$THREADS connections=$CONNS duration=${DURATION}s cores=$(nproc)"
printf '%-8s %12s %10s %10s  %s\n' run req/s p50_ms p99_ms statuses
for r in "${results[@]}"; do printf '%-8s %12s %10s %10s  %s\n' $r; done
bare=$(printf '%s\n' "${results[@]}" | awk '/^bare/ {s+=$2; n++} END {print s/n}')
comms=$(printf '%s\n' "${results[@]}" | awk '/^comms/ {s+=$2; n++} END {print s/n}')
normal=$(printf '%s\n' "${results[@]}" | awk '/^normal/ {s+=$2; n++} END {print s/n}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
echo "mean bare: $bare req/s"
echo "mean comms (synchronous=FULL, the default): $comms req/s; ratio comms/bare: $(ratio "$comms" "$bare")"
echo "mean comms (COMMS_DB_SYNC_FULL=false): $normal req/s; ratio: $(ratio "$normal" "$bare")"
echo "fdatasync of 4 KiB here: $fsync_ms ms; with $CONNS clients each waiting for its commit, a serial"
echo "fsync-per-group-commit writer tops out near $CONNS / fsync = $(awk -v c="$CONNS" -v f="$fsync_ms" 'BEGIN {printf "%.0f", c/f*1000}') req/s"
# wrk stops with up to CONNS requests in flight per run: those rows exist but their 202 was not counted.
echo "durability: wrk saw $accepted x 202; database holds $rows notifications"
[ "$rows" -ge "$accepted" ] || { echo "MISMATCH: accepted notifications are missing from the database" >&2; exit 1; }
