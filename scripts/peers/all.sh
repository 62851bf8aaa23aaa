#!/usr/bin/env bash
# Start/stop every test peer, each in DIR/<name>:
#   scripts/peers/all.sh start --dir D     prints all COMMS_TEST_* lines
#   scripts/peers/all.sh stop|status|env|clean --dir D
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
action="${1:?usage: all.sh start|stop|status|env|clean --dir D}"; shift
[[ "${1:-}" == "--dir" && -n "${2:-}" ]] || { echo "usage: all.sh $action --dir D" >&2; exit 2; }
dir="$2"
mkdir -p "$dir"
for n in postgres redis smtp kannel africastalking rabbitmq; do
  "$here/_peer.sh" "$n" "$action" --dir "$dir/$n"
done
if [[ "$action" == clean ]]; then rmdir "$dir" 2>/dev/null || true; fi
