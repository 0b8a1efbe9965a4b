#!/usr/bin/env bash
# Memory soak, compressed: one coordinator with a small heap (-Xmx, default 256m) runs many
# jobs back to back against a load-test worker (no model: tokens by hash, so the coordinator
# and its store are what is measured). After each job the coordinator's heap is measured
# after a full GC (jcmd GC.run + GC.heap_info). A coordinator that kept samples per job would
# grow by the jobs' size each time (and die of OutOfMemoryError at this heap); it must stay
# flat: the script fails when the heap after the last job exceeds the heap after the first by
# more than QR_SOAK_SLACK_MB (16). The coordinator's resident set size (RSS, from /proc) is
# printed beside it. Loopback only, bounded by deadlines. The job store grows by about 56 MB
# per 200k-sample job (every sample is kept once); the work directory is removed on success.
#   deploy/fault/soak.sh     QR_SOAK_JOBS (20) x QR_SOAK_PROMPTS (200) x QR_SOAK_K (1024)
#                            = 204,800 samples per job; QR_SOAK_HEAP (256m),
#                            QR_SOAK_SLACK_MB (16), QR_FAULT_PORT (23620)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
Q="$ROOT/quasiroll"
export QUASIROLL_SKIP_BUILD=1
JOBS="${QR_SOAK_JOBS:-20}"; PROMPTS="${QR_SOAK_PROMPTS:-200}"; K="${QR_SOAK_K:-1024}"; HEAP="${QR_SOAK_HEAP:-256m}"
SLACK="${QR_SOAK_SLACK_MB:-16}"
P="${QR_FAULT_PORT:-23620}"
GRPC=$((P + 1)); CPEKKO=$((P + 2)); WPEKKO=$((P + 3)); CMET=$((P + 4)); WMET=$((P + 5))
W="$(mktemp -d /tmp/qr-soak.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "soak: FAIL: $*" >&2; echo "logs in $W" >&2; exit 1; }
metric() { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v n="$2" 'index($1, n) == 1 {s += $2} END {print s + 0}'; }
source "$ROOT/tools/jdk.sh"; quasiroll_find_jdk >/dev/null
JCMD="$(dirname "$QUASIROLL_JAVA")/jcmd"
[ -x "$JCMD" ] || fail "jcmd not found next to $QUASIROLL_JAVA"

python3 - "$W/prompts.jsonl" "$PROMPTS" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"id": "p%04d" % i, "prompt": "soak %d" % i}) + "\n")
PY

QUASIROLL_JAVA_OPTS="-Xmx$HEAP" "$Q" coordinator --bind 127.0.0.1 --grpc-port $GRPC --pekko-port $CPEKKO \
  --metrics-port $CMET --data-dir "$W" --output-dir "$W/out" >"$W/coordinator.log" 2>&1 &
COORD=$!; PIDS+=($COORD)
"$Q" worker --model 'loadtest:?vocab=32' --coordinator-seed 127.0.0.1:$CPEKKO --bind 127.0.0.1 \
  --pekko-port $WPEKKO --metrics-port $WMET --capacity 256 --parallel 2 >"$W/worker.log" 2>&1 &
PIDS+=($!)
deadline=$((SECONDS + 120))
until [ "$(metric $CMET quasiroll_coordinator_live_workers)" -ge 1 ] 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the worker did not join within 120 s"; sleep 1
done

heap_mb() { "$JCMD" $COORD GC.run >/dev/null; sleep 1
  # ParallelGC: the young and old generations' "used" (Metaspace is not heap).
  "$JCMD" $COORD GC.heap_info | awk '/Gen +total/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); gsub(/[K,]/, "", v); s += v}} END {print int(s / 1024)}'; }
rss_mb() { awk '/^VmRSS:/ {print int($2 / 1024)}' /proc/$COORD/status; }
need_mb=$((JOBS * PROMPTS * K * 300 / 1048576 + 100))
free_mb=$(df -Pm "$W" | awk 'NR == 2 {print $4}')
[ "$free_mb" -ge "$need_mb" ] || fail "$W has $free_mb MB free; the job store needs about $need_mb MB"
echo "soak: $JOBS jobs x $PROMPTS prompts x k=$K ($((PROMPTS * K)) samples each), coordinator -Xmx$HEAP"
echo "soak: $(nproc) cores, load: $(uptime | sed 's/.*load average/load average/')"
printf "%5s %10s %8s %14s %8s %10s\n" job samples seconds heap_after_MB rss_MB store_MB
first_heap=$(heap_mb); heap=$first_heap
printf "%5s %10s %8s %14s %8s %10s\n" 0 0 0 "$first_heap" "$(rss_mb)" 0
for j in $(seq 1 "$JOBS"); do
  start=$SECONDS
  timeout 900 "$Q" submit --coordinator 127.0.0.1:$GRPC --model 'loadtest:?vocab=32' -k "$K" --max-new-tokens 4 \
    --seed "$j" --prompts "$W/prompts.jsonl" --out "$W/client.jsonl" 2>"$W/submit-$j.log" \
    || fail "job $j failed: $(tail -2 "$W/submit-$j.log")"
  kill -0 $COORD 2>/dev/null || fail "the coordinator died (see $W/coordinator.log)"
  rm -f "$W/client.jsonl"
  store=$(( $(stat -c %s "$W/out/.quasiroll/jobs.db" 2>/dev/null || echo 0) + $(stat -c %s "$W/out/.quasiroll/jobs.db-wal" 2>/dev/null || echo 0) ))
  heap=$(heap_mb)
  [ "$j" -eq 1 ] && first_heap=$heap
  printf "%5s %10s %8s %14s %8s %10s\n" "$j" "$((PROMPTS * K))" "$((SECONDS - start))" "$heap" "$(rss_mb)" "$((store / 1048576))"
done
grep -q OutOfMemoryError "$W/coordinator.log" && fail "OutOfMemoryError in the coordinator log"
[ "$heap" -le $((first_heap + SLACK)) ] \
  || fail "heap after GC grew from $first_heap MB (job 1) to $heap MB (job $JOBS), more than $SLACK MB"
echo "soak: load: $(uptime | sed 's/.*load average/load average/')"
echo "soak: PASS: heap after GC $first_heap MB after job 1, $heap MB after job $JOBS"
cleanup; trap - EXIT
rm -rf "$W"
