#!/usr/bin/env bash
# A real full disk under a JSONL sink, with real processes, loopback only.
#   1. a reference job, undisturbed, its sink on the ordinary disk;
#   2. the same job twice at once: one ("full") with its sink on a 256 KiB tmpfs mounted inside
#      the output directory, which fills up a few groups in; one ("healthy") beside it on the
#      ordinary disk. The full one must FAIL with the kernel's "No space left on device" and
#      the file's name; its file must hold only whole groups (k lines each, index 0..k-1, each
#      line identical to the reference's), nothing after the last newline; the healthy one must
#      finish with output identical to the reference; the coordinator must stay up and run a
#      third job afterwards.
# The job store is kept off the small filesystem (quasiroll.coordinator.store): a store that
# cannot commit stops the coordinator by design (see docs/operations.md).
# Mounting needs root, or an unprivileged user namespace (the script re-runs itself under
# `unshare --user --map-root-user --mount` when it is not root); without either it exits 77
# (skipped) and says why.
#   deploy/fault/disk-full.sh        (ports 24140-24149 unless QR_FAULT_PORT is set)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ "$(id -u)" != 0 ] && [ -z "${QR_DISK_FULL_UNSHARED:-}" ]; then
  if unshare --user --map-root-user --mount true 2>/dev/null; then
    QR_DISK_FULL_UNSHARED=1 exec unshare --user --map-root-user --mount "$0" "$@"
  fi
  echo "disk-full: SKIP: mounting a small filesystem needs root or unprivileged user namespaces" \
    "(unshare --user --map-root-user --mount failed)" >&2
  exit 77
fi
Q="$ROOT/quasiroll"
export QUASIROLL_SKIP_BUILD=1
P="${QR_FAULT_PORT:-24140}"
GRPC=$((P + 1)); CPEKKO=$((P + 2)); CMET=$((P + 3)); WPEKKO=$((P + 4))
W="$(mktemp -d /tmp/qr-fault-disk-full.XXXXXX)"
MODEL='loadtest:?vocab=32&step_us=2000'
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  umount "$W/out/small" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "disk-full: FAIL: $*" >&2; echo "logs in $W" >&2; exit 1; }
metric() { curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null | awk -v n="$2" 'index($1, n) == 1 {s += $2} END {print s + 0}'; }
wait_until() { local limit=$1 deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@"; do [ $SECONDS -lt $deadline ] || fail "timed out after $limit s waiting for $what"; sleep 0.5; done; }
workers_at_least() { [ "$(metric $CMET quasiroll_coordinator_live_workers)" -ge "$1" ] 2>/dev/null; }

mkdir -p "$W/out/small"
mount -t tmpfs -o size=256k,mode=0755 tmpfs "$W/out/small" \
  || { echo "disk-full: SKIP: cannot mount a tmpfs at $W/out/small" >&2; exit 77; }
python3 - "$W/prompts.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(24):
        f.write(json.dumps({"id": "p%02d" % i, "prompt": "d %d" % i}) + "\n")
PY
K=64; N=$((24 * K))

QUASIROLL_JAVA_OPTS="-Dquasiroll.coordinator.store=$W/jobs.db" \
  "$Q" coordinator --bind 127.0.0.1 --grpc-port $GRPC --pekko-port $CPEKKO --metrics-port $CMET \
  --data-dir "$W" --output-dir "$W/out" >"$W/coordinator.log" 2>&1 &
COORD=$!; PIDS+=($COORD)
"$Q" worker --model "$MODEL" --coordinator-seed 127.0.0.1:$CPEKKO --bind 127.0.0.1 --pekko-port $WPEKKO \
  --metrics-port 0 --capacity 8 --parallel 2 >"$W/worker.log" 2>&1 &
PIDS+=($!)
wait_until 120 "the worker" workers_at_least 1

submit() { # submit NAME SINK
  "$Q" submit --coordinator 127.0.0.1:$GRPC --model "$MODEL" -k $K --max-new-tokens 24 --seed 9 \
    --prompts "$W/prompts.jsonl" --out "$W/$1.client.jsonl" --server-jsonl "$2" 2>"$W/$1.cli.log"; }

submit reference reference.jsonl || fail "reference job failed: $(tail -2 "$W/reference.cli.log")"

submit full small/full.jsonl & FULL=$!
submit healthy healthy.jsonl & HEALTHY=$!
if wait $FULL; then fail "the job whose sink filled the disk succeeded"; fi
wait $HEALTHY || fail "the healthy job beside it failed: $(tail -2 "$W/healthy.cli.log")"
grep -q "No space left on device" "$W/full.cli.log" \
  || fail "the full job's error does not say 'No space left on device': $(tail -2 "$W/full.cli.log")"
grep -q "full.jsonl" "$W/full.cli.log" || fail "the full job's error does not name the file"
echo "disk-full: full job failed: $(grep -o 'cannot write JSONL sink.*' "$W/full.cli.log" | head -1)"

python3 - "$W/out/reference.jsonl" "$W/out/small/full.jsonl" "$W/out/healthy.jsonl" "$K" <<'PY' || fail "sink contents"
import collections, json, sys
ref_path, full_path, healthy_path, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def lines(p):
    data = open(p, "rb").read()
    assert data == b"" or data.endswith(b"\n"), p + " ends mid-line"
    return data.decode().splitlines()
ref = {(r["prompt_id"], r["index"]): l for l in lines(ref_path) for r in [json.loads(l)]}
healthy = {(r["prompt_id"], r["index"]): l for l in lines(healthy_path) for r in [json.loads(l)]}
assert healthy == ref, "the healthy job's sink differs from the reference"
full = lines(full_path)
assert len(full) % k == 0, "%d lines: not whole groups of %d" % (len(full), k)
groups = collections.OrderedDict()
for l in full:
    r = json.loads(l)
    assert ref[(r["prompt_id"], r["index"])] == l, "line differs from the reference: " + l[:80]
    groups.setdefault(r["prompt_id"], []).append(r["index"])
for p, idx in groups.items():
    assert idx == list(range(k)), "group %s is not whole and in order" % p
assert len(groups) < len({key[0] for key in ref}), "the small disk did not fill up"
print("disk-full: full sink holds %d whole groups (%d bytes), each identical to the reference;"
      " healthy sink identical to the reference (%d lines)" % (len(groups), sum(len(l) + 1 for l in full), len(healthy)))
PY
df -k "$W/out/small" | awk 'NR == 2 {print "disk-full: tmpfs used " $3 " KiB of " $2 " KiB"}'

kill -0 $COORD 2>/dev/null || fail "the coordinator exited"
curl -fsS "http://127.0.0.1:$CMET/ready" >/dev/null || fail "the coordinator is not ready"
submit after after.jsonl || fail "a job after the full disk failed: $(tail -2 "$W/after.cli.log")"
cmp -s <(sort "$W/out/reference.jsonl") <(sort "$W/out/after.jsonl") || fail "the job after differs"
echo "disk-full: the coordinator stayed up; a job after it finished identically"
echo "disk-full: PASS"
