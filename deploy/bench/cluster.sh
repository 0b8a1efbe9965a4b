#!/usr/bin/env bash
# End-to-end cluster throughput: coordinator + N workers (N = 1, 2, 4 by default) as
# separate processes on this machine, jobs submitted through the CLI over gRPC. Workers run
# the load-test runner (model "loadtest:", no model compute), so the numbers measure the
# coordinator, the Pekko control plane, the gRPC data plane and the client stream. Reports
# samples/s and the CPU time per sample of the coordinator (from /proc, after a warm-up job of
# the same size, so start-up and most JIT compilation are excluded), of all workers together
# (same window) and of the CLI client (the whole `quasiroll submit` process, JVM start
# included: it is a fresh JVM per job).
# Each worker count runs twice in the same run: first the baseline, workers sending one
# data-plane message per sample (-Dquasiroll.worker.result-batch=1, the protocol before
# result batching), then batched results (the default, up to 64 results per message); the
# last column is the batched samples/s over the baseline's. After the last mode, a second row
# ("64 python") runs the same job from a long-lived Python client (clients/python, reading
# StreamJobBatches) on the same cluster: one warm-up job, then BENCH_PY_ROUNDS timed ones on one
# channel, as an RL trainer runs step after step (no JVM start per job); median samples/s, CPU
# per sample over the timed jobs.
#
# Usage: deploy/bench/cluster.sh [WORKER_COUNTS...]   e.g. deploy/bench/cluster.sh 1 2 4
# Env:   BENCH_PROMPTS (200), BENCH_K (256), BENCH_TOKENS (8 = short samples),
#        BENCH_CAPACITY (128), BENCH_PARALLEL (1), BENCH_MODES ("1 64": result batch sizes),
#        BENCH_PYTHON (1; 0 = no Python-client row), BENCH_PY_ROUNDS (3),
#        BENCH_JFR (unset; a directory: a JFR recording of the coordinator during each measured
#        job is written there, coordinator-<workers>w-<mode>.jfr, and of the first worker and
#        the client, worker-... and client-...; read them with
#        `deploy/bench/jfr_breakdown.py "$JAVA_HOME/bin/jfr" FILE` or `jfr view hot-methods`;
#        the coordinator and worker recordings include jdk.CPUTimeSample events, throttle
#        BENCH_JFR_PERIOD, default 1ms),
#        BENCH_THREADS (unset; 1: after each row, the coordinator's CPU per sample by thread
#        group, from /proc, same window)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
COUNTS=("${@:-1 2 4}")
read -r -a COUNTS <<<"${COUNTS[*]}"
PROMPTS="${BENCH_PROMPTS:-200}"
K="${BENCH_K:-256}"
TOKENS="${BENCH_TOKENS:-8}"
export QR_DIR="${QR_DIR:-$ROOT/.quasiroll/bench}"
export QR_GRPC_PORT="${QR_GRPC_PORT:-17470}" QR_PEKKO_PORT="${QR_PEKKO_PORT:-27520}" QR_METRICS_PORT="${QR_METRICS_PORT:-19470}"
export QR_MODEL="loadtest:?vocab=24"
export QR_CAPACITY="${BENCH_CAPACITY:-128}" QR_PARALLEL="${BENCH_PARALLEL:-1}"
CLK_TCK="$(getconf CLK_TCK)"
source "$ROOT/tools/jdk.sh" && quasiroll_find_jdk  # JAVA_HOME, for jcmd with BENCH_JFR

mkdir -p "$QR_DIR"
prompts="$QR_DIR/prompts.jsonl"
for i in $(seq 1 "$PROMPTS"); do echo "{\"id\":\"p$i\",\"prompt\":\"bench prompt $i\"}"; done >"$prompts"
cpu_seconds() { awk -v t="$CLK_TCK" '{print ($14 + $15) / t}' "/proc/$1/stat"; }
# CPU of the process's threads other than the JIT compilers (C1/C2 keep compiling for a long
# time on a busy machine; their share is start-up cost, not cost per sample).
cpu_seconds_no_jit() {
  local sum=0 t
  for t in /proc/"$1"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in "C1 Compiler"*|"C2 Compiler"*) continue ;; esac
    sum=$((sum + $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0)))
  done
  echo "$sum / $CLK_TCK" | bc -l
}
submit() { # submit K [JFR_FILE]: runs one job, prints wall seconds and the client's CPU seconds
  local start end opts="${QUASIROLL_JAVA_OPTS:-}" cpu="$QR_DIR/client-cpu"
  [ -z "${2:-}" ] || opts="$opts -XX:StartFlightRecording=settings=profile,filename=$2"
  start=$(date +%s.%N)
  QUASIROLL_JAVA_OPTS="$opts" QUASIROLL_SKIP_BUILD=1 /usr/bin/time -o "$cpu" -f '%U %S' "$ROOT/quasiroll" submit --coordinator "127.0.0.1:$QR_GRPC_PORT" --prompts "$prompts" \
    -k "$1" --model "$QR_MODEL" --sampler lattice --max-new-tokens "$TOKENS" --seed 1 --out "$QR_DIR/out.jsonl" >/dev/null 2>&1 # stdout too: JFR announces itself there
  end=$(date +%s.%N)
  echo "$(echo "$end - $start" | bc -l) $(tail -n 1 "$cpu" | awk '{print $1 + $2}')"
}
thread_ticks() { # per-thread "name ticks" of a process (digits in names folded to #)
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s\n' "$(tr -d '\n' <"$t/comm" 2>/dev/null | tr ' 0-9' '_#')" "$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0)"
  done
}
workers_cpu() { # CPU seconds of all workers together
  local sum=0 f
  for f in "$QR_DIR"/pids/worker-*.pid; do sum="$(echo "$sum + $(cpu_seconds "$(cat "$f")")" | bc -l)"; done
  echo "$sum"
}

# Whatever happens (a node that fails to start under load, Ctrl-C), leave no node running.
trap 'QR_WORKERS=4 "$ROOT/deploy/local/stop-cluster.sh" >/dev/null 2>&1 || true' EXIT
"$ROOT/quasiroll" --version >/dev/null  # build once
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "job: $PROMPTS prompts x k=$K, max $TOKENS new tokens, worker capacity $QR_CAPACITY"
read -r -a MODES <<<"${BENCH_MODES:-1 64}"
printf '%-8s %-12s %10s %14s %20s %22s %17s %17s %8s\n' workers results/msg samples/s tokens/sample coord-cpu-us/sample "(excluding JIT threads)" workers-cpu-us client-cpu-us ratio
for n in "${COUNTS[@]}"; do
 base=""
 for mode in "${MODES[@]}"; do
  QR_WORKERS="$n" "$ROOT/deploy/local/stop-cluster.sh" >/dev/null 2>&1 || true
  QUASIROLL_JAVA_OPTS="${QUASIROLL_JAVA_OPTS:-} -Dquasiroll.worker.result-batch=$mode" \
    QR_WORKERS="$n" "$ROOT/deploy/local/start-cluster.sh" 2>/dev/null
  coord="$(cat "$QR_DIR/pids/coordinator.pid")"
  submit "$K" >/dev/null   # warm-up: a full-size job, so the JIT has compiled the hot paths
  clientjfr=""
  if [ -n "${BENCH_JFR:-}" ]; then
    mkdir -p "$BENCH_JFR"
    jfrdir="$(cd "$BENCH_JFR" && pwd)"
    clientjfr="$jfrdir/client-${n}w-${mode}.jfr"
    cpu_samples="jdk.CPUTimeSample#enabled=true jdk.CPUTimeSample#throttle=${BENCH_JFR_PERIOD:-1ms}"
    "$JAVA_HOME/bin/jcmd" "$coord" JFR.start name=bench settings=profile $cpu_samples \
      filename="$jfrdir/coordinator-${n}w-${mode}.jfr" >/dev/null
    "$JAVA_HOME/bin/jcmd" "$(cat "$QR_DIR/pids/worker-1.pid")" JFR.start name=bench settings=profile $cpu_samples \
      filename="$jfrdir/worker-${n}w-${mode}.jfr" >/dev/null
  fi
  [ -z "${BENCH_THREADS:-}" ] || thread_ticks "$coord" >"$QR_DIR/threads0"
  cpu0="$(cpu_seconds "$coord")"; nojit0="$(cpu_seconds_no_jit "$coord")"; wcpu0="$(workers_cpu)"
  read -r wall ccpu < <(submit "$K" "$clientjfr")
  if [ -n "${BENCH_JFR:-}" ]; then
    "$JAVA_HOME/bin/jcmd" "$coord" JFR.stop name=bench >/dev/null
    "$JAVA_HOME/bin/jcmd" "$(cat "$QR_DIR/pids/worker-1.pid")" JFR.stop name=bench >/dev/null
  fi
  cpu1="$(cpu_seconds "$coord")"; nojit1="$(cpu_seconds_no_jit "$coord")"; wcpu1="$(workers_cpu)"
  samples=$((PROMPTS * K))
  if [ -n "${BENCH_THREADS:-}" ]; then # threads alive at both ends; new threads count from 0
    thread_ticks "$coord" | awk -v t="$CLK_TCK" -v n="$samples" 'NR == FNR {a[$1] += $2; next} {b[$1] += $2}
      END {for (k in b) {d = (b[k] - a[k]) * 1e6 / t / n; if (d >= 0.05) printf "    %-40s %6.1f us/sample\n", k, d}}' \
      "$QR_DIR/threads0" - | sort -k2 -gr
  fi
  tokens="$(awk -F'"token_ids":\\[' '{n = split($2, a, "]"); c += split(a[1], b, ",")} END {print c}' "$QR_DIR/out.jsonl")"
  rate="$(echo "$samples / $wall" | bc -l)"
  [ -n "$base" ] || base="$rate"
  printf '%-8s %-12s %10.0f %14.1f %20.1f %22.1f %17.1f %17.1f %7.2fx\n' "$n" "$mode" "$rate" \
    "$(echo "$tokens / $samples" | bc -l)" "$(echo "($cpu1 - $cpu0) * 1000000 / $samples" | bc -l)" \
    "$(echo "($nojit1 - $nojit0) * 1000000 / $samples" | bc -l)" \
    "$(echo "($wcpu1 - $wcpu0) * 1000000 / $samples" | bc -l)" "$(echo "$ccpu * 1000000 / $samples" | bc -l)" \
    "$(echo "$rate / $base" | bc -l)"
  if [ "${BENCH_PYTHON:-1}" = 1 ] && [ "$mode" = "${MODES[-1]}" ]; then
    # the same job from a long-lived Python client (StreamJobBatches), as a trainer runs it
    pids=(); for f in "$QR_DIR"/pids/worker-*.pid; do pids+=("$(cat "$f")"); done
    read -r prate pc pcj pw pcl prounds < <(/usr/bin/python3 "$HERE/cluster_client.py" "127.0.0.1:$QR_GRPC_PORT" \
      "$QR_MODEL" "$PROMPTS" "$K" "$TOKENS" "${BENCH_PY_ROUNDS:-3}" "$coord" "${pids[@]}")
    printf '%-8s %-12s %10.0f %14s %20.1f %22.1f %17.1f %17.1f %7.2fx  (rounds: %s samples/s)\n' "$n" "$mode python" \
      "$prate" "-" "$pc" "$pcj" "$pw" "$pcl" "$(echo "$prate / $base" | bc -l)" "$prounds"
  fi
  "$ROOT/deploy/local/stop-cluster.sh" >/dev/null 2>&1
 done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
