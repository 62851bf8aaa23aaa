#!/usr/bin/env bash
# Installs what building and running the service needs (Debian 12 packages).
# Idempotent: quiet and fast when everything is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

apt_ensure \
  build-essential cmake ninja-build ccache pkg-config git ca-certificates tzdata openssl \
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
  libsqlite3-dev libspdlog-dev libfmt-dev libjwt-dev libssl-dev libcurl4-openssl-dev \
  libpq-dev libhiredis-dev librabbitmq-dev libjemalloc-dev \
  libgtest-dev libgmock-dev libbenchmark-dev
