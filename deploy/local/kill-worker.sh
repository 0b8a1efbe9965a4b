#!/usr/bin/env bash
# SIGKILLs worker I of the local cluster (no goodbye: the coordinator notices the broken
# data plane stream at once and re-queues the worker's shards).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
i="${1:?usage: kill-worker.sh WORKER_NUMBER}"
pid_file="$QR_DIR/pids/worker-$i.pid"
[ -f "$pid_file" ] || { echo "no worker $i (no $pid_file)" >&2; exit 2; }
kill -KILL "$(cat "$pid_file")" 2>/dev/null || true
rm -f "$pid_file"
echo "worker $i killed" >&2
