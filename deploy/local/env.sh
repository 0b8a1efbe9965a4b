# Shared settings of the local cluster scripts (sourced). Override any of them in the
# environment, e.g. QR_WORKERS=4 QR_MODEL='synthetic:markov?vocab=64&seed=1' start-cluster.sh
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
QR_DIR="${QR_DIR:-$ROOT/.quasiroll/local}"        # pid files, logs, outputs
QR_BIND="${QR_BIND:-127.0.0.1}"
QR_GRPC_PORT="${QR_GRPC_PORT:-7470}"
QR_PEKKO_PORT="${QR_PEKKO_PORT:-25520}"
QR_METRICS_PORT="${QR_METRICS_PORT:-9470}"      # coordinator; worker i uses +i
QR_WORKERS="${QR_WORKERS:-2}"
QR_MODEL="${QR_MODEL:-synthetic:markov?vocab=64&seed=1}"
QR_DEVICE="${QR_DEVICE:-cpu}"
QR_CAPACITY="${QR_CAPACITY:-64}"
QR_PARALLEL="${QR_PARALLEL:-1}"
QR_CPU_THREADS="${QR_CPU_THREADS:-}"            # CPU threads per worker; empty = quasiroll.worker.cpu-threads
QR_TIMEOUT="${QR_TIMEOUT:-180}"                  # seconds to wait for the cluster to come up
QUASIROLL="${QUASIROLL:-$ROOT/quasiroll}"

metric() { # metric NAME [PORT]: value of an unlabelled metric, empty if unavailable
  curl -fsS "http://$QR_BIND:${2:-$QR_METRICS_PORT}/metrics" 2>/dev/null | awk -v n="$1" '$1 == n {print $2}'
}

start_worker() { # start_worker I: starts worker I in the background, pid in $QR_DIR/pids/worker-I.pid
  local i="$1"
  mkdir -p "$QR_DIR/pids" "$QR_DIR/logs"
  local opts="${QUASIROLL_JAVA_OPTS:-}"
  [ -z "$QR_CPU_THREADS" ] || opts="$opts -Dquasiroll.worker.cpu-threads=$QR_CPU_THREADS"
  QUASIROLL_JAVA_OPTS="$opts" QUASIROLL_SKIP_BUILD=1 nohup "$QUASIROLL" worker --model "$QR_MODEL" --device "$QR_DEVICE" \
    --coordinator-seed "$QR_BIND:$QR_PEKKO_PORT" --bind "$QR_BIND" --capacity "$QR_CAPACITY" \
    --parallel "$QR_PARALLEL" --metrics-port $((QR_METRICS_PORT + i)) \
    >"$QR_DIR/logs/worker-$i.log" 2>&1 &
  echo $! >"$QR_DIR/pids/worker-$i.pid"
}

wait_for_workers() { # wait_for_workers N: until the coordinator counts N live workers
  local want="$1" deadline=$((SECONDS + QR_TIMEOUT)) got
  until got="$(metric quasiroll_coordinator_live_workers)" && [ -n "$got" ] && [ "${got%.*}" -ge "$want" ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "local cluster: only ${got:-0} of $want workers joined within ${QR_TIMEOUT}s; see $QR_DIR/logs" >&2
      return 1
    fi
    sleep 1
  done
}
