#!/usr/bin/env bash
# Network partition with real processes, loopback only, no root: every byte between the two
# workers and the coordinator (the Pekko cluster transport in both directions and the gRPC
# data plane) goes through deploy/fault/partition-proxy.py, which can stall all of it at once
# (SIGUSR1) and let it go again (SIGUSR2), as a real partition does to TCP.
#   1. a reference job, undisturbed;
#   2. the same job with a short partition (3 s, under the failure detector's threshold plus
#      the split-brain resolver's stable-after): nobody is downed, the output is identical;
#   3. the same job with a long partition (QR_PARTITION_SECONDS, default 25 s): the resolver
#      (keep-oldest, role coordinator) keeps the coordinator's side although the workers are
#      two of three nodes; both workers are downed, find themselves removed when it heals and
#      join again as new incarnations ("-r1"); their shards are re-queued and late results from
#      the old incarnations are refused; the output is identical to the reference (no sample
#      lost or twice).
#   deploy/fault/partition.sh        (ports 24100-24119 unless QR_FAULT_PORT is set)
# How it is wired: each node's canonical Pekko port (the one others dial) is a proxy port,
# and it listens on another port (pekko.remote.artery.bind.port); the coordinator advertises
# its data plane at 127.0.0.2 (loopback), where the proxy listens. The client API and the
# metrics are not proxied (the client stands on the coordinator's side).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
Q="$ROOT/quasiroll"
export QUASIROLL_SKIP_BUILD=1
P="${QR_FAULT_PORT:-24100}"
LONG="${QR_PARTITION_SECONDS:-25}"
GRPC=$((P + 1)); CMET=$((P + 2))
C_CANON=$((P + 3)); C_BIND=$((P + 4))
A_CANON=$((P + 5)); A_BIND=$((P + 6))
B_CANON=$((P + 7)); B_BIND=$((P + 8))
W="$(mktemp -d /tmp/qr-fault-partition.XXXXXX)"
MODEL='loadtest:?vocab=32&step_us=3000'
PIDS=()
cleanup() {
  [ -n "${PROXY:-}" ] && kill -USR2 "$PROXY" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "partition: FAIL: $*" >&2; echo "logs in $W" >&2; exit 1; }
metric() { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v n="$2" 'index($1, n) == 1 {s += $2} END {print s + 0}'; }
wait_until() { local limit=$1 deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@"; do [ $SECONDS -lt $deadline ] || fail "timed out after $limit s waiting for $what"; sleep 0.5; done; }
workers_at_least() { [ "$(metric $CMET quasiroll_coordinator_live_workers)" -ge "$1" ] 2>/dev/null; }
samples_at_least() { [ "$(metric $CMET quasiroll_coordinator_samples_total)" -ge "$1" ]; }

python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0)); s.close()' 2>/dev/null \
  || fail "cannot bind 127.0.0.2 (this script needs the whole 127.0.0.0/8 on loopback, as Linux has)"
python3 - "$W/prompts.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(24):
        f.write(json.dumps({"id": "p%02d" % i, "prompt": "n %d" % i}) + "\n")
PY
K=64; N=$((24 * K))

python3 "$ROOT/deploy/fault/partition-proxy.py" \
  127.0.0.1:$C_CANON=127.0.0.1:$C_BIND 127.0.0.1:$A_CANON=127.0.0.1:$A_BIND \
  127.0.0.1:$B_CANON=127.0.0.1:$B_BIND 127.0.0.2:$GRPC=127.0.0.1:$GRPC >"$W/proxy.log" 2>&1 &
PROXY=$!; PIDS+=($PROXY)

QUASIROLL_JAVA_OPTS="-Dpekko.remote.artery.bind.port=$C_BIND -Dquasiroll.coordinator.advertise-host=127.0.0.2" \
  "$Q" coordinator --bind 127.0.0.1 --grpc-port $GRPC --pekko-port $C_CANON --metrics-port $CMET \
  --data-dir "$W" --output-dir "$W/out" >"$W/coordinator.log" 2>&1 &
PIDS+=($!)
start_worker() { # start_worker NAME CANONICAL_PORT BIND_PORT
  QUASIROLL_JAVA_OPTS="-Dpekko.remote.artery.bind.port=$3" \
    "$Q" worker --model "$MODEL" --coordinator-seed 127.0.0.1:$C_CANON --bind 127.0.0.1 --pekko-port "$2" \
    --metrics-port 0 --capacity 8 >"$W/worker-$1.log" 2>&1 &
  PIDS+=($!)
}
start_worker A $A_CANON $A_BIND
start_worker B $B_CANON $B_BIND
wait_until 120 "two workers" workers_at_least 2
wait_until 30 "the data planes to pass the proxy" grep -q "127.0.0.2:$GRPC.*connection" "$W/proxy.log"

submit() { "$Q" submit --coordinator 127.0.0.1:$GRPC --model "$MODEL" -k $K --max-new-tokens 24 --seed 5 \
  --prompts "$W/prompts.jsonl" --out "$W/$1.client.jsonl" --server-jsonl "$1.jsonl" 2>"$W/$1.cli.log"; }
compare() {
  python3 - "$W/out/reference.jsonl" "$W/out/$1.jsonl" "$W/$1.client.jsonl" <<'PY' || fail "$1: output differs from the reference"
import json, sys
def load(p):
    data = open(p, "rb").read()
    assert data.endswith(b"\n"), p + " ends mid-line"
    rows = sorted((r["prompt_id"], r["index"], tuple(r["token_ids"])) for r in map(json.loads, data.decode().splitlines()))
    assert len(rows) == len({(a, b) for a, b, _ in rows}), p + " has a sample twice"
    return rows
ref = load(sys.argv[1])
for p in sys.argv[2:]:
    got = load(p)
    assert ref == got, "%s: %d vs %d rows or content differs" % (p, len(ref), len(got))
PY
  echo "partition: $1: $N samples identical to the reference (server sink and client stream)"
}
partition_for() { # partition_for SECONDS
  kill -USR1 "$PROXY"; echo "partition: partitioned both workers from the coordinator for $1 s"
  sleep "$1"
  kill -USR2 "$PROXY"; echo "partition: healed"
}

submit reference || fail "reference job failed: $(tail -2 "$W/reference.cli.log")"
cp "$W/out/reference.jsonl" "$W/reference.sink.jsonl"
python3 -c 'import sys,json; [json.loads(l) for l in open(sys.argv[1])]' "$W/reference.client.jsonl"

# 2. a short partition: under the failure detector plus stable-after, nobody is downed
submit short & CLI=$!
wait_until 60 "the short run to start" samples_at_least $((N + N / 5))
partition_for 3
wait $CLI || fail "the run with a short partition failed: $(tail -2 "$W/short.cli.log")"
compare short
if grep -q "removed from the cluster" "$W"/worker-*.log; then
  fail "a 3 s partition got a worker downed (the failure detector or the resolver is too eager)"
fi
echo "partition: short: no worker was downed"

# 3. a long partition: both workers are downed, rejoin after the heal, the job finishes exactly
refused_before=$(metric $CMET quasiroll_coordinator_refused_results)
submit long & CLI=$!
wait_until 60 "the long run to start" samples_at_least $((2 * N + N / 5))
partition_for "$LONG"
wait $CLI || fail "the run with a long partition failed: $(tail -2 "$W/long.cli.log")"
compare long
rejoined() { [ "$(grep -c -- "-r1 joined" "$W/coordinator.log")" -ge 2 ] && workers_at_least 2; }
wait_until 120 "both workers to join again" rejoined
kill -0 "${PIDS[1]}" 2>/dev/null || fail "the coordinator exited"
echo "partition: long: both workers were downed and joined again as new incarnations"
echo "partition: requeued shards (all runs): $(metric $CMET quasiroll_coordinator_requeued_shards_total)," \
  "late results refused in the long run: $(( $(metric $CMET quasiroll_coordinator_refused_results) - refused_before ))"
grep -h "Marking node as UNREACHABLE\|SBR took decision\|-r1 joined" "$W/coordinator.log" | cut -c1-160 \
  | sed 's/^/partition: coordinator log: /' | tail -5
grep -v connection "$W/proxy.log" | tail -2 | sed 's/^/partition: proxy log: /'
echo "partition: PASS"
