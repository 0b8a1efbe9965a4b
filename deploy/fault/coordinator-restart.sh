#!/usr/bin/env bash
# Fault test with real processes, loopback only: SIGKILL the coordinator in the middle of a
# job, restart it on the same job store, and check that
#   - the job resumes and succeeds (the worker survives: it is downed, joins again),
#   - the server-side JSONL equals an undisturbed run's (same samples, none twice, no torn
#     line), and
#   - samples computed twice are at most the ones not yet committed when it died
#     (reported: worker-side samples minus the two jobs' sizes).
# Bounded: every wait has a deadline; exits non-zero with the reason on any failure.
#   deploy/fault/coordinator-restart.sh        (ports 23600-23609 unless QR_FAULT_PORT is set)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
Q="$ROOT/quasiroll"
export QUASIROLL_SKIP_BUILD=1
P="${QR_FAULT_PORT:-23600}"
GRPC=$((P + 1)); CPEKKO=$((P + 2)); WPEKKO=$((P + 3)); CMET=$((P + 4)); WMET=$((P + 5))
W="$(mktemp -d /tmp/qr-fault-restart.XXXXXX)"
MODEL='synthetic:markov?vocab=64&seed=1'
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "coordinator-restart: FAIL: $*" >&2; echo "logs in $W" >&2; exit 1; }
metric() { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v n="$2" 'index($1, n) == 1 {s += $2} END {print s + 0}'; }
wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@"; do [ $SECONDS -lt $deadline ] || fail "timed out after ${deadline}s waiting for $what"; sleep 0.5; done
}
start_coordinator() {
  "$Q" coordinator --bind 127.0.0.1 --grpc-port $GRPC --pekko-port $CPEKKO --metrics-port $CMET \
    --data-dir "$W" --output-dir "$W/out" >>"$W/coordinator.log" 2>&1 &
  COORD=$!; PIDS+=($COORD)
}
live_workers() { [ "$(metric $CMET quasiroll_coordinator_live_workers)" -ge 1 ] 2>/dev/null; }
state() { "$Q" status --coordinator 127.0.0.1:$GRPC "$1" 2>/dev/null | awk -F'"' '/"state"/ {print $4}'; }
samples_done() { "$Q" status --coordinator 127.0.0.1:$GRPC "$1" 2>/dev/null | awk -F'"' '/"samples_done"/ {print $4}'; }

python3 - "$W/prompts.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(160):
        f.write(json.dumps({"id": "p%02d" % i, "prompt": "prompt number %d" % i}) + "\n")
PY
K=64; N=$((160 * K))

start_coordinator
"$Q" worker --model "$MODEL" --coordinator-seed 127.0.0.1:$CPEKKO --bind 127.0.0.1 --pekko-port $WPEKKO \
  --metrics-port $WMET --capacity 16 >"$W/worker.log" 2>&1 &
PIDS+=($!)
wait_until 120 "the worker to join" live_workers

submit() { # submit NAME: runs a job to its end through the CLI
  "$Q" submit --coordinator 127.0.0.1:$GRPC --model "$MODEL" -k $K --max-new-tokens 48 --sampler sobol \
    --seed 7 --prompts "$W/prompts.jsonl" --out "$W/$1.client.jsonl" --server-jsonl "$1.jsonl"
}
submit reference 2>"$W/reference.cli.log" || fail "the reference job failed: $(tail -2 "$W/reference.cli.log")"

submit run 2>"$W/run.cli.log" &
CLI=$!
wait_until 30 "the job id" grep -q "submitted" "$W/run.cli.log"
JOB="$(awk '/submitted/ {print $3}' "$W/run.cli.log")"
# Progress from the coordinator's sample counter (the reference job's N included).
third() { [ "$(metric $CMET quasiroll_coordinator_samples_total)" -ge $((N + N / 3)) ]; }
wait_until 120 "a third of job $JOB" third
BEFORE=$(( $(metric $CMET quasiroll_coordinator_samples_total) - N ))
kill -9 $COORD
echo "coordinator-restart: SIGKILL at $BEFORE of $N samples (job $JOB)"
start_coordinator
wait_until 120 "the worker to join the restarted coordinator" live_workers
done_state() { [ "$(state "$JOB")" = "JOB_STATE_SUCCEEDED" ]; }
wait_until 240 "job $JOB to succeed after the restart (state: $(state "$JOB"))" done_state
wait $CLI 2>/dev/null || echo "coordinator-restart: note: the client's stream gave up during the restart (the job itself succeeded)"

python3 - "$W/out/reference.jsonl" "$W/out/run.jsonl" <<'PY' || fail "outputs differ"
import json, sys
def load(p):
    rows = []
    with open(p, "rb") as f:
        data = f.read()
    assert data.endswith(b"\n"), p + " ends mid-line"
    for line in data.decode().splitlines():
        r = json.loads(line)
        rows.append((r["prompt_id"], r["index"], r["text"], tuple(r["token_ids"])))
    assert len(rows) == len(set((a, b) for a, b, _, _ in rows)), p + " has a sample twice"
    return sorted(rows)
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == len(b), "%d vs %d lines" % (len(a), len(b))
assert a == b, "content differs"
print("coordinator-restart: %d samples identical to the undisturbed run" % len(a))
PY
COMPUTED="$(metric $WMET quasiroll_worker_samples_total)"
echo "coordinator-restart: worker computed $COMPUTED samples for 2 x $N: $((COMPUTED - 2 * N)) computed twice (uncommitted or in flight at the kill)"
echo "coordinator-restart: PASS"
