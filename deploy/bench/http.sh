#!/usr/bin/env bash
# The OpenAI-compatible HTTP API's goals (docs/http-api.md): requests/s for n = 1 short
# completions, HTTP vs gRPC samples/s for n = 64, and the latency of the first streamed
# token. Starts a coordinator with the HTTP API, a load-test worker (model "loadtest:",
# no model compute, so the API and the cluster are what is measured) and a synthetic-model
# worker (the real decode loop, for streaming), all on this machine; stops them at the end.
#
# Usage: deploy/bench/http.sh
# Env:   BENCH_WARMUP (1500) and BENCH_REQUESTS (3000) n=1 requests, BENCH_THREADS (16 client
#        threads), BENCH_PROMPTS (50), BENCH_N1_ONLY=1 (only the n=1 part),
#        BENCH_PROFILE=DIR (JFR CPU-time profile of the coordinator and the load-test worker
#        during the timed n=1 requests, written to DIR/*.jfr and summarized by jfr_breakdown.py),
#        QR_HTTP_PORT (18480), QR_GRPC_PORT (18470), QR_PEKKO_PORT (28520)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HTTP_PORT="${QR_HTTP_PORT:-18480}" GRPC_PORT="${QR_GRPC_PORT:-18470}" PEKKO_PORT="${QR_PEKKO_PORT:-28520}"
LOADTEST="loadtest:?vocab=24"
SYNTHETIC="synthetic:markov?vocab=64&seed=1&eos=0.01"
DIR="$(mktemp -d)"
# Debian's python3 has python3-grpcio / python3-protobuf (deploy/install-deps.sh) for the gRPC side.
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$ROOT/quasiroll" --version >/dev/null  # build once
if [ -n "${BENCH_PROFILE:-}" ]; then
  # shellcheck source=../../tools/jdk.sh
  source "$ROOT/tools/jdk.sh" && quasiroll_find_jdk  # JAVA_HOME for jcmd and jfr
  mkdir -p "$BENCH_PROFILE"
  BENCH_PROFILE="$(cd "$BENCH_PROFILE" && pwd)"
  export BENCH_PROFILE
fi
export QUASIROLL_SKIP_BUILD=1
"$ROOT/quasiroll" coordinator --grpc-port "$GRPC_PORT" --pekko-port "$PEKKO_PORT" --metrics-port 0 \
  --http-port "$HTTP_PORT" --output-dir "$DIR" --data-dir "$DIR" >"$DIR/coordinator.log" 2>&1 &
pids+=($!)
sleep 3
"$ROOT/quasiroll" worker --model "$LOADTEST" --coordinator-seed "127.0.0.1:$PEKKO_PORT" --capacity 128 \
  >"$DIR/loadtest.log" 2>&1 &
pids+=($!)
"$ROOT/quasiroll" worker --model "$SYNTHETIC" --coordinator-seed "127.0.0.1:$PEKKO_PORT" --capacity 64 \
  >"$DIR/synthetic.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  [ "$(curl -s "http://127.0.0.1:$HTTP_PORT/health" | sed -n 's/.*"live_workers":\([0-9]*\).*/\1/p')" = 2 ] && break
  sleep 1
done
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
QR_BENCH_COORDINATOR_PID="${pids[0]}" QR_BENCH_WORKER_PID="${pids[1]}" \
  "$PY" "$HERE/http_bench.py" "http://127.0.0.1:$HTTP_PORT" "127.0.0.1:$GRPC_PORT" "$LOADTEST" "$SYNTHETIC"
