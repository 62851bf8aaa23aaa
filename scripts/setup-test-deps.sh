#!/usr/bin/env bash
# Installs everything the integration-test peers need (see docs/testing.md):
#   - Debian packages: RabbitMQ, PostgreSQL 15, Redis, Kannel (+ fakesmsc), Python test clients.
#   - npm test clients into tests/node_modules from tests/package.json + package-lock.json.
# Idempotent and quiet; when everything is present it only runs dpkg-query and a stamp check.
# Never starts a system service: package maintainer scripts are kept from starting daemons
# through policy-rc.d (an existing one is left alone).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

APT_PACKAGES=(
  rabbitmq-server
  postgresql-15 postgresql-client-15
  redis-server redis-tools
  kannel kannel-extras
  openssl curl procps
  clang-14 libclang-rt-14-dev
  python3-pytest python3-requests python3-pika python3-aiosmtpd python3-psycopg2 python3-redis
)
# Node/npm: use what is there (the image ships NodeSource's nodejs); otherwise Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  APT_PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup-test-deps: installing ${missing[*]}" >&2
  SUDO=""
  [[ "$(id -u)" == 0 ]] || SUDO="sudo"
  created_policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  cleanup_policy() { [[ -z "$created_policy" ]] || $SUDO rm -f /usr/sbin/policy-rc.d; }
  trap cleanup_policy EXIT
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  cleanup_policy
  trap - EXIT
fi

# npm: install when node_modules does not match the lock file (npm writes
# node_modules/.package-lock.json; compare it with a stamp of the committed lock).
TESTS="$ROOT/tests"
LOCK="$TESTS/package-lock.json"
STAMP="$TESTS/node_modules/.setup-test-deps.stamp"
want="$(sha256sum "$TESTS/package.json" "$LOCK" | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$want" || ! -d "$TESTS/node_modules/@microsoft/signalr" \
      || ! -d "$TESTS/node_modules/amqplib" ]]; then
  echo "setup-test-deps: npm ci in tests/ (from package-lock.json)" >&2
  (cd "$TESTS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$STAMP"
fi
