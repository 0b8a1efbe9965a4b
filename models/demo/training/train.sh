#!/usr/bin/env bash
# Builds the bundled demo model models/demo/ from scratch, seeded:
#   generate (Java task generators) -> train (tiny Llama, plain torch) -> export (HF format)
#   -> evaluate (pass@1 at temperature 1 on held-out instances, scored by the Java verifiers).
# Usage: models/demo/training/train.sh            (CPU, Debian's /usr/bin/python3 with torch)
#        DEVICE=cuda PYTHON=python3 models/demo/training/train.sh   (same recipe on a GPU)
#        models/demo/training/train.sh eval       (only re-measure pass@1 of MODEL_OUT)
#        SAMPLER=quasiroll models/demo/training/train.sh eval
#                                              (the same, sampled by `quasiroll sample` instead of
#                                               sample.py: MODEL_OUT/eval-quasiroll.tsv)
# Env: WORK (scratch folder, default out/demo-model), STEPS, BATCH, THREADS, MODEL_OUT.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
WORK="${WORK:-$ROOT/out/demo-model}"
MODEL_OUT="${MODEL_OUT:-$ROOT/models/demo}"
PY="${PYTHON:-/usr/bin/python3}"
DEVICE="${DEVICE:-cpu}"
STEPS="${STEPS:-6000}"
# The bundled weights are the checkpoint after EXPORT_STEP steps of the STEPS-step cosine
# schedule: the final one solves the easier tasks too often for pass@k to have room.
EXPORT_STEP="${EXPORT_STEP:-3000}"
BATCH="${BATCH:-128}"
THREADS="${THREADS:-2}"
SAMPLER="${SAMPLER:-torch}"
case "$SAMPLER" in torch|quasiroll) ;; *) echo "SAMPLER '$SAMPLER' is invalid: expected torch or quasiroll" >&2; exit 2 ;; esac
Q="$ROOT/quasiroll"

# name|task|params|n: the training mix (seed 1). Parameters are pinned here so that a change
# of a generator default does not change the training data.
SETS=(
  "countdown-3|countdown|count=3 max=20|40000"
  "countdown-4|countdown|count=4 max=20|20000"
  "maze-4|maze|rows=4 cols=4 walls=30 min_moves=3|15000"
  "maze-5|maze|rows=5 cols=5 walls=30 min_moves=3|40000"
  "sudoku-4|sudoku|blanks=4|15000"
  "sudoku-7|sudoku|blanks=7|15000"
  "sudoku-10|sudoku|blanks=10|15000"
  "arithmetic-2|arithmetic|terms=2 max=50|15000"
  "arithmetic-3|arithmetic|terms=3 max=50|15000"
)
# Evaluation: each generator's DEFAULT parameters (the demo difficulty), seed 2.
EVAL_TASKS=(countdown maze sudoku arithmetic)
EVAL_N="${EVAL_N:-400}"

generate() { # seed outdir
  mkdir -p "$2"
  for s in "${SETS[@]}"; do
    IFS='|' read -r name task params n <<<"$s"
    args=()
    for p in $params; do args+=(--param "$p"); done
    "$Q" tasks generate --task "$task" --seed "$1" --n "$n" "${args[@]}" --out "$2/$name.jsonl"
  done
}

STAGE="${1:-all}"
case "$STAGE" in all|eval) ;; *) echo "usage: $0 [all|eval]" >&2; exit 2 ;; esac

echo "== generate" >&2
generate 1 "$WORK/train"
mkdir -p "$WORK/eval-all" "$WORK/eval"
for task in "${EVAL_TASKS[@]}"; do
  "$Q" tasks generate --task "$task" --seed 2 --n "$EVAL_N" --out "$WORK/eval-all/$task.jsonl"
  "$PY" "$HERE/holdout.py" "$WORK/train" "$WORK/eval-all/$task.jsonl" "$WORK/eval/$task.jsonl"
done

if [ "$STAGE" = all ]; then
echo "== train ($DEVICE, $STEPS steps)" >&2
"$PY" "$HERE/train.py" --data "$WORK/train" --out "$WORK/run" --steps "$STEPS" --batch "$BATCH" \
  --device "$DEVICE" --threads "$THREADS" --save-at "$EXPORT_STEP"

echo "== export step $EXPORT_STEP -> $MODEL_OUT" >&2
"$PY" "$HERE/hf_export.py" "$WORK/run/checkpoint-$EXPORT_STEP.pt" "$MODEL_OUT"
cp "$WORK/run/training_log.txt" "$MODEL_OUT/training_log.txt"
fi

echo "== evaluate (pass@1, temperature 1, one sample per held-out prompt, sampled by $SAMPLER)" >&2
TSV="$MODEL_OUT/eval.tsv"
[ "$SAMPLER" = quasiroll ] && TSV="$MODEL_OUT/eval-quasiroll.tsv"
printf 'set\tprompts\tpass@1\n' >"$TSV"
for f in "$WORK"/eval/*.jsonl; do
  name="$(basename "$f" .jsonl)"
  if [ "$SAMPLER" = quasiroll ]; then
    # One i.i.d. sample per prompt; the prompt is encoded as the model's tokenizer config says
    # (BOS first for this model), as sample.py does.
    "$Q" sample --model "$MODEL_OUT" --prompts "$f" -k 1 --sampler iid --seed 1 --max-new-tokens 48 \
      --out "$WORK/eval/$name.quasiroll-samples"
    completions="$WORK/eval/$name.quasiroll-samples"
  else
    "$PY" "$HERE/sample.py" --model "$MODEL_OUT" --prompts "$f" --out "$WORK/eval/$name.completions" \
      --device "$DEVICE" --threads "$THREADS"
    completions="$WORK/eval/$name.completions"
  fi
  "$Q" tasks verify --prompts "$f" --completions "$completions" \
    | awk -v n="$name" 'NR > 1 { print n "\t" $2 "\t" $3 }' >>"$TSV"
done
cat "$TSV"
