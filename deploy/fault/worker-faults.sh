#!/usr/bin/env bash
# Fault test with real processes, loopback only: worker pause and worker kill.
#   1. a reference job on an undisturbed cluster;
#   2. the same job again while worker A is paused (SIGSTOP) past the split-brain resolver's
#      timeout and then continued (SIGCONT): the coordinator downs A and re-queues its shards;
#      A finds itself removed and joins again (as "...-r1") instead of exiting;
#   3. the same job again while worker B is killed (SIGKILL): its shards are re-queued at once.
# Each disturbed run must end with output identical to the reference.
#   deploy/fault/worker-faults.sh        (ports 23640-23649 unless QR_FAULT_PORT is set)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
Q="$ROOT/quasiroll"
export QUASIROLL_SKIP_BUILD=1
P="${QR_FAULT_PORT:-23640}"
GRPC=$((P + 1)); CPEKKO=$((P + 2)); CMET=$((P + 3))
W="$(mktemp -d /tmp/qr-fault-workers.XXXXXX)"
MODEL='loadtest:?vocab=32&step_us=3000'
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "worker-faults: FAIL: $*" >&2; echo "logs in $W" >&2; exit 1; }
metric() { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v n="$2" 'index($1, n) == 1 {s += $2} END {print s + 0}'; }
wait_until() { local limit=$1 deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@"; do [ $SECONDS -lt $deadline ] || fail "timed out after $limit s waiting for $what"; sleep 0.5; done; }
workers_at_least() { [ "$(metric $CMET quasiroll_coordinator_live_workers)" -ge "$1" ] 2>/dev/null; }
samples_at_least() { [ "$(metric $CMET quasiroll_coordinator_samples_total)" -ge "$1" ]; }

python3 - "$W/prompts.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(24):
        f.write(json.dumps({"id": "p%02d" % i, "prompt": "w %d" % i}) + "\n")
PY
K=64; N=$((24 * K))

"$Q" coordinator --bind 127.0.0.1 --grpc-port $GRPC --pekko-port $CPEKKO --metrics-port $CMET \
  --data-dir "$W" --output-dir "$W/out" >"$W/coordinator.log" 2>&1 &
PIDS+=($!)
start_worker() { # start_worker NAME PEKKO_PORT
  "$Q" worker --model "$MODEL" --coordinator-seed 127.0.0.1:$CPEKKO --bind 127.0.0.1 --pekko-port "$2" \
    --metrics-port 0 --capacity 8 >"$W/worker-$1.log" 2>&1 &
  PIDS+=($!); eval "PID_$1=$!"
}
start_worker A $((P + 4))
start_worker B $((P + 5))
wait_until 120 "two workers" workers_at_least 2

submit() { "$Q" submit --coordinator 127.0.0.1:$GRPC --model "$MODEL" -k $K --max-new-tokens 24 --seed 3 \
  --prompts "$W/prompts.jsonl" --out "$W/$1.client.jsonl" --server-jsonl "$1.jsonl" 2>"$W/$1.cli.log"; }
compare() {
  python3 - "$W/out/reference.jsonl" "$W/out/$1.jsonl" <<'PY' || fail "$1: output differs from the reference"
import json, sys
def load(p):
    data = open(p, "rb").read()
    assert data.endswith(b"\n"), p + " ends mid-line"
    rows = sorted((r["prompt_id"], r["index"], tuple(r["token_ids"])) for r in map(json.loads, data.decode().splitlines()))
    assert len(rows) == len({(a, b) for a, b, _ in rows}), p + " has a sample twice"
    return rows
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a == b, "%d vs %d rows or content differs" % (len(a), len(b))
PY
  echo "worker-faults: $1: $N samples identical to the reference"
}

submit reference || fail "reference job failed: $(tail -2 "$W/reference.cli.log")"

# 2. pause worker A past the resolver's timeout (stable-after 5 s + failure detection)
submit paused & CLI=$!
wait_until 60 "the paused run to start" samples_at_least $((N + N / 5))
kill -STOP "$PID_A"; echo "worker-faults: SIGSTOP worker A"
sleep 25
kill -CONT "$PID_A"; echo "worker-faults: SIGCONT worker A"
wait $CLI || fail "the paused run failed: $(tail -2 "$W/paused.cli.log")"
compare paused
rejoined() { grep -q "joined again\|removed from the cluster" "$W/worker-A.log" && workers_at_least 2; }
wait_until 90 "worker A to join again" rejoined
grep -q -- "-r1 up" "$W/worker-A.log" || fail "worker A did not come back as a new incarnation"
echo "worker-faults: worker A was downed and joined again ($(grep -c 'removed from the cluster' "$W/worker-A.log") time(s))"

# 3. kill worker B mid-job
submit killed & CLI=$!
wait_until 60 "the killed run to start" samples_at_least $((2 * N + N / 5))
kill -9 "$PID_B"; echo "worker-faults: SIGKILL worker B"
wait $CLI || fail "the run with a killed worker failed: $(tail -2 "$W/killed.cli.log")"
compare killed
echo "worker-faults: requeued shards (all runs): $(metric $CMET quasiroll_coordinator_requeued_shards_total)"
echo "worker-faults: PASS"
