#!/usr/bin/env bash
# Adds worker number I (default: the next free number) to a running local cluster and waits
# until it has joined.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
i="${1:-$(( $(ls "$QR_DIR/pids" | grep -c '^worker-') + 1 ))}"
before="$(metric quasiroll_coordinator_live_workers)"
start_worker "$i"
wait_for_workers $(( ${before%.*} + 1 ))
echo "worker $i joined" >&2
