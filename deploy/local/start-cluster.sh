#!/usr/bin/env bash
# Starts a local cluster on loopback: one coordinator and $QR_WORKERS workers as separate
# processes, then waits until every worker has joined. Settings: deploy/local/env.sh.
# Stop it with stop-cluster.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mkdir -p "$QR_DIR/pids" "$QR_DIR/logs" "$QR_DIR/out" "$QR_DIR/data"
if [ -f "$QR_DIR/pids/coordinator.pid" ] && kill -0 "$(cat "$QR_DIR/pids/coordinator.pid")" 2>/dev/null; then
  echo "local cluster: already running (pids in $QR_DIR/pids); stop it first" >&2
  exit 1
fi
# Build once up front so the nodes don't race to build (a caller that just built says so).
[ "${QUASIROLL_SKIP_BUILD:-}" = 1 ] || "$QUASIROLL" --version >/dev/null
QUASIROLL_SKIP_BUILD=1 nohup "$QUASIROLL" coordinator --bind "$QR_BIND" --grpc-port "$QR_GRPC_PORT" \
  --pekko-port "$QR_PEKKO_PORT" --metrics-port "$QR_METRICS_PORT" \
  --data-dir "$QR_DIR/data" --output-dir "$QR_DIR/out" >"$QR_DIR/logs/coordinator.log" 2>&1 &
echo $! >"$QR_DIR/pids/coordinator.pid"
for i in $(seq 1 "$QR_WORKERS"); do
  start_worker "$i"
done
wait_for_workers "$QR_WORKERS"
echo "local cluster up: coordinator $QR_BIND:$QR_GRPC_PORT, $QR_WORKERS workers of '$QR_MODEL'," \
  "metrics http://$QR_BIND:$QR_METRICS_PORT/metrics, logs $QR_DIR/logs" >&2
