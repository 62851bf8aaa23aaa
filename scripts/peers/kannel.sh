#!/usr/bin/env bash
# Start/stop the kannel test peer; see scripts/peers/_peer.sh and docs/testing.md.
exec "$(dirname "${BASH_SOURCE[0]}")/_peer.sh" kannel "$@"
