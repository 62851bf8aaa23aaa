#!/usr/bin/env bash
# A local scale-out cluster from Debian packages, no containers: PostgreSQL, Redis, RabbitMQ and two
# (or more) `comms serve` instances sharing them. See README "Scale out" and docs/scale-out.md.
#
#   bash scripts/cluster.sh start     # set up, build, start everything; prints the URLs and a token
#   bash scripts/cluster.sh status    # what runs
#   bash scripts/cluster.sh env       # the shared COMMS_* settings, to run `comms` commands against it
#   bash scripts/cluster.sh stop      # stop the instances and the servers, delete the cluster's data
#
# Settings (environment; none of them start with COMMS_, which the service reserves):
#   CLUSTER_DIR    where state, data and logs live (default: ./cluster)
#   CLUSTER_PORTS  the instances' HTTP ports (default: "8081 8082"; one port per instance)
#   CLUSTER_BIN    an already built comms binary (default: build it, as scripts/run.sh does)
# Any COMMS_* variable set in the caller's environment reaches every instance (e.g. the
# Africa's Talking settings); the script sets COMMS_DB, COMMS_REDIS, COMMS_BUS, COMMS_HTTP_ADDR,
# COMMS_DATA_DIR, and a shared COMMS_JWT_SECRET and COMMS_SECRETS_KEY unless they are given.
#
# The servers are the project's test peers (tests/integration/peers.py): each runs as a plain
# process on a free port with its data in CLUSTER_DIR (PostgreSQL's in /tmp, see peer_dir). PostgreSQL runs with fsync off there: this
# is a cluster to try scale-out on one machine, not a production deployment.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/lib.sh

CLUSTER_DIR=$(realpath -m "${CLUSTER_DIR:-cluster}")
CLUSTER_PORTS=${CLUSTER_PORTS:-"8081 8082"}
PEERS="/usr/bin/python3 $ROOT/tests/integration/peers.py"

die() { echo "cluster: $*" >&2; exit 1; }

# A peer's state/data dir. PostgreSQL's lives under /tmp: the server runs as the `postgres` OS user,
# which may not be able to reach a checkout under a private home directory.
peer_dir() {
  if [ "$1" = postgres ]; then cat "$CLUSTER_DIR/postgres.dir" 2>/dev/null; else echo "$CLUSTER_DIR/$1"; fi
}

peer_env() {  # peer KEY -> value from the peer's saved state
  $PEERS "$1" env --dir "$(peer_dir "$1")" | sed -n "s/^$2=//p"
}

shared_env_file() { echo "$CLUSTER_DIR/cluster.env"; }

start() {
  [ -f "$(shared_env_file)" ] && die "already started in $CLUSTER_DIR (run: bash scripts/cluster.sh stop)"
  bash scripts/setup.sh
  bash scripts/setup-test-deps.sh
  local bin=${CLUSTER_BIN:-}
  if [ -z "$bin" ]; then
    comms_configure
    cmake --build "$BUILD_DIR" --target comms
    bin=$ROOT/$BUILD_DIR/comms
  fi
  [ -x "$bin" ] || die "no comms binary at $bin"
  mkdir -p "$CLUSTER_DIR"
  echo "cluster: starting PostgreSQL, Redis and RabbitMQ in $CLUSTER_DIR" >&2
  local pg_dir
  pg_dir=$(mktemp -d /tmp/comms-cluster-pg.XXXXXX)
  chmod 755 "$pg_dir"
  echo "$pg_dir" > "$CLUSTER_DIR/postgres.dir"
  $PEERS postgres start --dir "$pg_dir" >/dev/null
  $PEERS redis start --dir "$(peer_dir redis)" >/dev/null
  $PEERS rabbitmq start --dir "$(peer_dir rabbitmq)" >/dev/null

  local jwt=${COMMS_JWT_SECRET:-$(openssl rand -hex 32)}
  local sealing=${COMMS_SECRETS_KEY:-$(openssl rand -hex 32)}
  umask 077
  cat > "$(shared_env_file)" <<EOF
COMMS_DB=$(peer_env postgres COMMS_TEST_PG_URL)
COMMS_REDIS=$(peer_env redis COMMS_TEST_REDIS_URL)
COMMS_BUS=$(peer_env rabbitmq COMMS_TEST_AMQP_URL)
COMMS_JWT_SECRET=$jwt
COMMS_SECRETS_KEY=$sealing
CLUSTER_BIN_PATH=$bin
EOF
  umask 022
  # shellcheck disable=SC1090
  set -a; . "$(shared_env_file)"; set +a
  mkdir -p "$CLUSTER_DIR/admin"
  COMMS_DATA_DIR=$CLUSTER_DIR/admin "$bin" migrate >/dev/null

  local i=0
  for port in $CLUSTER_PORTS; do
    i=$((i + 1))
    local dir=$CLUSTER_DIR/instance-$i
    mkdir -p "$dir"
    COMMS_HTTP_ADDR=127.0.0.1:$port COMMS_DATA_DIR=$dir \
      setsid "$bin" serve >"$dir/comms.log" 2>&1 </dev/null &
    echo $! > "$dir/pid"
  done
  i=0
  for port in $CLUSTER_PORTS; do
    i=$((i + 1))
    local ok=""
    for _ in $(seq 200); do
      if curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; then ok=1; break; fi
      kill -0 "$(cat "$CLUSTER_DIR/instance-$i/pid")" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$ok" ] || { tail -20 "$CLUSTER_DIR/instance-$i/comms.log" >&2; die "instance $i (port $port) did not start"; }
    echo "instance $i: http://127.0.0.1:$port  (log $CLUSTER_DIR/instance-$i/comms.log)"
  done
  echo "admin token: $(COMMS_DATA_DIR=$CLUSTER_DIR/admin "$bin" token --sub cluster-admin --role admin)"
  echo "stop with: bash scripts/cluster.sh stop"
}

stop() {
  [ -d "$CLUSTER_DIR" ] || { echo "cluster: nothing in $CLUSTER_DIR"; return 0; }
  local pidfile
  for pidfile in "$CLUSTER_DIR"/instance-*/pid; do
    [ -f "$pidfile" ] || continue
    local pid
    pid=$(cat "$pidfile")
    if kill -TERM "$pid" 2>/dev/null; then
      for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  local peer
  for peer in rabbitmq redis postgres; do
    local d
    d=$(peer_dir "$peer")
    [ -n "$d" ] && [ -d "$d" ] && $PEERS "$peer" clean --dir "$d" || true
  done
  rm -rf "$CLUSTER_DIR"
  echo "cluster: stopped"
}

status() {
  [ -f "$(shared_env_file)" ] || { echo "cluster: not started ($CLUSTER_DIR)"; return 1; }
  local peer
  for peer in postgres redis rabbitmq; do
    echo "$peer: $($PEERS "$peer" status --dir "$(peer_dir "$peer")" | tail -1)"
  done
  local i=0
  for port in $CLUSTER_PORTS; do
    i=$((i + 1))
    local state=stopped
    if kill -0 "$(cat "$CLUSTER_DIR/instance-$i/pid" 2>/dev/null || echo 0)" 2>/dev/null; then
      state=running
      curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && state="running, ready"
    fi
    echo "instance $i (port $port): $state"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) [ -f "$(shared_env_file)" ] || die "not started"; grep '^COMMS_' "$(shared_env_file)" | sed 's/^/export /' ;;
  *) echo "usage: bash scripts/cluster.sh start|status|env|stop" >&2; exit 2 ;;
esac
