#!/usr/bin/env bash
# Adds worker number I (default: the next free number) to a running local cluster and waits
# until it has joined.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# Default number: one past every worker this cluster has had (killed ones included, so
# pid files, logs and metrics ports are never reused).
last="$(ls "$QR_DIR/logs" 2>/dev/null | sed -n 's/^worker-\([0-9]*\)\.log$/\1/p' | sort -n | tail -1)"
i="${1:-$(( ${last:-0} + 1 ))}"
if [ -f "$QR_DIR/pids/worker-$i.pid" ] && kill -0 "$(cat "$QR_DIR/pids/worker-$i.pid")" 2>/dev/null; then
  echo "worker $i is already running" >&2
  exit 2
fi
before="$(metric quasiroll_coordinator_live_workers)"
start_worker "$i"
wait_for_workers $(( ${before%.*} + 1 ))
echo "worker $i joined" >&2
