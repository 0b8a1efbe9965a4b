#!/usr/bin/env bash
# One command for the GRPO comparison (docs/grpo.md): starts a local cluster of 2 workers
# serving the bundled demo model, generates the training prompts, runs iid vs lattice with 3
# seeds each (examples/grpo/compare.py: plots, steps-to-target CIs, report) and stops the
# cluster. Settings: QR_* as for deploy/local (ports, workers); GRPO_* below; extra arguments
# go to grpo.py (e.g. --lr 3e-5).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
export QR_DIR="${QR_DIR:-$ROOT/.quasiroll/grpo-cluster}" QR_MODEL="${QR_MODEL:-$ROOT/models/demo}" QR_CAPACITY="${QR_CAPACITY:-8}"
OUT="${GRPO_OUT:-$ROOT/out/grpo}"
mkdir -p "$OUT"
# A fixed pool of 64 countdown prompts (the demo model's pass@1 on them is about 0.3), sampled
# 16 per step: every prompt recurs every few steps, so the training reward can rise within
# the budget (docs/grpo.md).
./quasiroll tasks generate --task countdown --param count=3 --param max=20 --n "${GRPO_POOL:-64}" --seed 7 --out "$OUT/prompts.jsonl"
deploy/local/start-cluster.sh
trap 'deploy/local/stop-cluster.sh' EXIT
/usr/bin/python3 examples/grpo/compare.py --out "$OUT" --samplers "${GRPO_SAMPLERS:-iid,lattice}" --seeds "${GRPO_SEEDS:-1,2,3,4,5}" \
  --target "${GRPO_TARGET:-0.5}" --window "${GRPO_WINDOW:-5}" \
  --address "127.0.0.1:${QR_GRPC_PORT:-7470}" --model-id "$QR_MODEL" --prompts "$OUT/prompts.jsonl" \
  --steps "${GRPO_STEPS:-50}" --batch "${GRPO_BATCH:-16}" --k "${GRPO_K:-8}" --max-new-tokens 20 --lr "${GRPO_LR:-3e-4}" "$@"
