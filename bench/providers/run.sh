#!/usr/bin/env bash
# SMS notifications/s through the Africa's Talking adapter to the local fake server, and emails/s
# through the SMTP adapter to aiosmtpd, each beside the peer's own ceiling (plain libcurl threads,
# same connection count) measured in the same run, so the ratio shows the adapter's overhead.
#
#   bash bench/providers/run.sh [MESSAGES] [CONNECTIONS]
#
# Peers are started with tests/integration/peers.py on free ports in temp dirs and removed again.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
MESSAGES=${1:-5000}
CONNS=${2:-8}
comms_configure
cmake --build "$BUILD_DIR" --target bench_providers >/dev/null

PY=/usr/bin/python3
at_dir=$(mktemp -d) smtp_dir=$(mktemp -d)
cleanup() {
  $PY tests/integration/peers.py africastalking clean --dir "$at_dir" >/dev/null 2>&1 || true
  $PY tests/integration/peers.py smtp clean --dir "$smtp_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
setting() { grep "^$1=" | cut -d= -f2-; }
at_env=$($PY tests/integration/peers.py africastalking start --dir "$at_dir" 2>/dev/null)
smtp_env=$($PY tests/integration/peers.py smtp start --dir "$smtp_dir" 2>/dev/null)
AT_URL=$(setting COMMS_TEST_AT_BASE_URL <<<"$at_env")
AT_USER=$(setting COMMS_TEST_AT_USERNAME <<<"$at_env")
AT_KEY=$(setting COMMS_TEST_AT_API_KEY <<<"$at_env")
SMTP_URL=$(setting COMMS_TEST_SMTP_URL <<<"$smtp_env")

run() { "$BUILD_DIR/bench_providers" --at "$AT_URL" --user "$AT_USER" --key "$AT_KEY" --smtp "$SMTP_URL" \
          --messages "$MESSAGES" --concurrency "$CONNS" --only "$1" | tail -n 1; }
# ABAB: each adapter right after its reference, twice, so that drift shows.
rows=()
for round in 1 2; do
  for s in sms-raw sms-adapter sms-bulk smtp-raw smtp-adapter; do rows+=("$(run "$s")"); done
done

echo
echo "Provider adapters vs. their peers' own ceiling ($MESSAGES SMS, $((MESSAGES / 5)) emails, $CONNS connections, $(nproc) cores)"
printf '%-13s %10s %10s %10s %s\n' scenario "run 1/s" "run 2/s" "best/s" "vs reference"
printf '%s\n' "${rows[@]}" | awk -v n="${#rows[@]}" '
  { rate[$1] = (rate[$1] == "" ? $4 : rate[$1] " " $4); if ($5 > 0) failed[$1] += $5 }
  END {
    split("sms-raw sms-adapter sms-bulk smtp-raw smtp-adapter", order, " ")
    ref["sms-adapter"] = "sms-raw"; ref["sms-bulk"] = "sms-raw"; ref["smtp-adapter"] = "smtp-raw"
    for (i = 1; i <= 5; i++) { s = order[i]; split(rate[s], r, " "); best[s] = (r[1] > r[2] ? r[1] : r[2]) }
    for (i = 1; i <= 5; i++) {
      s = order[i]; split(rate[s], r, " ")
      vs = (s in ref) ? sprintf("%.2fx %s", best[s] / best[ref[s]], ref[s]) : "(reference)"
      if (failed[s]) vs = vs sprintf("  FAILED SENDS: %d", failed[s])
      printf "%-13s %10.0f %10.0f %10.0f %s\n", s, r[1], r[2], best[s], vs
    }
  }'
