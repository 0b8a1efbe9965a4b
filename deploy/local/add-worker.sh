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
start_worker "$i"
# Wait for THIS worker to be welcomed by the job manager (counting live workers would race
# with workers that are being removed).
deadline=$((SECONDS + QR_TIMEOUT))
until [ "$(metric quasiroll_worker_registered $((QR_METRICS_PORT + i)))" = "1.0" ]; do
  if [ $SECONDS -ge $deadline ]; then
    echo "worker $i did not join within ${QR_TIMEOUT}s; see $QR_DIR/logs/worker-$i.log" >&2
    exit 1
  fi
  sleep 1
done
echo "worker $i joined" >&2
