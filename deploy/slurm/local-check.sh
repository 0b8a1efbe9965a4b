#!/usr/bin/env bash
# Runs deploy/slurm/quasiroll.sbatch on this machine with Slurm's srun and scontrol replaced
# by local stubs: a one-"node" allocation named localhost, one CPU worker on a synthetic
# model, TLS from make-dev-ca.sh and a random token (the same configuration as on a cluster;
# only the addresses are loopback). Then submits a job with TLS + token, checks it completes,
# checks that a plaintext client is refused, and stops every process it started.
#   deploy/slurm/local-check.sh [BASE_PORT]   (uses BASE_PORT .. BASE_PORT+2 and +20..+22; default 25700)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE="${1:-25700}"
W="$(mktemp -d)"
mkdir -p "$W/bin"
cat >"$W/bin/scontrol" <<'STUB'
#!/usr/bin/env bash
[[ "$1 $2" == "show hostnames" ]] && { echo localhost; exit 0; }
echo "scontrol stub: unsupported: $*" >&2; exit 1
STUB
cat >"$W/bin/srun" <<'STUB'
#!/usr/bin/env bash
# Drops srun's options (all given as --opt=v, --opt v or -w host) and runs the command here.
while [[ $# -gt 0 && "$1" == -* ]]; do
  case "$1" in --*=*|--exclusive) shift ;; -w|--*) shift 2 ;; *) shift ;; esac
done
exec "$@"
STUB
cat >"$W/bin/hostname" <<'STUB'
#!/bin/sh
echo localhost
STUB
chmod +x "$W/bin/"*
cleanup() {
  # the nodes are the launcher's java children, in the sbatch's process group
  if [[ -n "${SB:-}" ]]; then
    kill -- -"$SB" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 -- -"$SB" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- -"$SB" 2>/dev/null || true
  fi
  rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "local-check: FAILED: $*" >&2; tail -n 20 "$W"/qr/logs/*.log >&2 || true; exit 1; }

export SLURM_JOB_ID=local SLURM_JOB_NODELIST=localhost SLURM_SUBMIT_DIR="$ROOT" QUASIROLL_HOME="$ROOT"
export QR_DIR="$W/qr" GPUS_PER_NODE=1 WORKER_DEVICE=cpu WORKER_CAPACITY=16
export GRPC_PORT=$BASE PEKKO_PORT=$((BASE + 20)) METRICS_PORT=$((BASE + 1))
MODEL='synthetic:markov?vocab=64&seed=1'
unset QUASIROLL_AUTH_TOKEN QUASIROLL_TLS_CA QUASIROLL_TLS_CERT QUASIROLL_TLS_KEY QUASIROLL_TLS_DIR
set -m   # the sbatch script gets its own process group
PATH="$W/bin:$PATH" bash "$ROOT/deploy/slurm/quasiroll.sbatch" "$MODEL" >"$W/sbatch.out" 2>&1 &
SB=$!
set +m

for _ in $(seq 60); do grep -q '^quasiroll coordinator' "$W/sbatch.out" && break; kill -0 $SB 2>/dev/null || fail "the sbatch script exited: $(cat "$W/sbatch.out")"; sleep 1; done
grep -q '^quasiroll coordinator' "$W/sbatch.out" || fail "no coordinator within 60 s"
[[ -e "$W/qr/tls/ca.key" ]] && fail "the CA key was left on the shared file system"
openssl x509 -in "$W/qr/tls/coordinator.crt" -noout -ext subjectAltName | grep -q 'DNS:localhost' || fail "coordinator certificate lacks the host name"

python3 -c '
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(4): f.write(json.dumps({"id": "p%d" % i, "prompt": "prompt %d" % i}) + "\n")' "$W/prompts.jsonl"
Q="$ROOT/quasiroll"
# A worker registers a few seconds after the coordinator is ready; a job waits for one anyway.
timeout 60 "$Q" submit --coordinator localhost:$GRPC_PORT --tls-ca "$W/qr/tls/ca.crt" --token-file "$W/qr/token" \
  --model "$MODEL" -k 4 --max-new-tokens 8 --prompts "$W/prompts.jsonl" --out "$W/samples.jsonl" >"$W/submit.log" 2>&1 \
  || fail "the TLS job did not complete: $(tail -5 "$W/submit.log")"
n="$(wc -l <"$W/samples.jsonl")"
[[ "$n" == 16 ]] || fail "expected 16 samples, got $n"
# The same job without TLS (token only) must be refused.
if timeout 30 "$Q" submit --coordinator localhost:$GRPC_PORT --token-file "$W/qr/token" \
  --model "$MODEL" -k 4 --max-new-tokens 8 --prompts "$W/prompts.jsonl" --out "$W/plain.jsonl" >"$W/plain.log" 2>&1; then
  fail "a plaintext client's job ran"
fi
ls "$W/qr/logs" | grep -q '^worker-localhost-0.log$' || fail "no worker log"
cat "$W/plain.log" | tail -n 1
echo "local-check: OK: coordinator + worker over TLS (token + CA from the sbatch script), 16 samples; plaintext client refused"
