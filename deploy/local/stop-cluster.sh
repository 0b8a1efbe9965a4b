#!/usr/bin/env bash
# Stops the local cluster: SIGTERM to every node (workers first; each leaves the cluster
# gracefully), SIGKILL after 15 s for any that linger. Removes the pid files.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
[ -d "$QR_DIR/pids" ] || exit 0
pids=()
for f in "$QR_DIR"/pids/worker-*.pid "$QR_DIR/pids/coordinator.pid"; do
  [ -f "$f" ] || continue
  pid="$(cat "$f")"
  kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  rm -f "$f"
done
for _ in $(seq 1 150); do
  alive=0
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ $alive -eq 0 ] && break
  sleep 0.1
done
for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
echo "local cluster stopped" >&2
