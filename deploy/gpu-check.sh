#!/usr/bin/env bash
# GPU verification of the CUDA backend, in ONE go on a machine with an NVIDIA GPU, its driver,
# Python with PyTorch + transformers, and NO Java and no network. It runs from a bundle made
# here by deploy/gpu/bundle.sh (a jlink'ed JRE, the jars, this script, gpu_check.py):
#
#   deploy/gpu/bundle.sh out/gpu-carry          # on a build machine (Java 17 + Maven)
#   bash out/gpu-carry/gpu-check.sh out/gpu-carry   # on the GPU machine; ~3-5 minutes
#
# Steps (each logged; a failing step does not stop the later ones; exit 1 if any failed):
#  1. selftest: PTX loads, tensor-core matmul vs double, GPU sampler vs CPU sampler (exact),
#     a tiny random model GPU vs CPU backend (logits, greedy tokens, bit-determinism)
#  2. a random-weight Qwen2-0.5B-shaped model built by transformers from a config (bf16)
#  3. parity on 3 prompts, 32 greedy steps: quasiroll GPU vs quasiroll CPU (Java side) and
#     quasiroll GPU vs transformers fp32 (Python side); tolerance: max|dlogit|/max|logit| < 1e-3
#  4. throughput, one shared prompt, 128 new tokens, batch 1/16/64/256: quasiroll GPU vs
#     transformers generate (eager and sdpa attention, bf16), and the ratios
set -uo pipefail
BUNDLE="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")}" && pwd)"
WORK="${GPU_CHECK_WORK:-/tmp/quasiroll-gpu-check}"
LOG="${OUT:-$WORK}/gpu-check.log"
mkdir -p "$WORK" "$(dirname "$LOG")"
: >"$LOG"
PY="${PYTHON:-python3}"
export PYTHONUNBUFFERED=1
failed=()

say() { echo "== $*" | tee -a "$LOG"; }
step() { # step NAME TIMEOUT_S CMD...   (GPU_CHECK_ONLY="selftest make-model" runs just those)
  local name="$1" limit="$2"
  shift 2
  if [ -n "${GPU_CHECK_ONLY:-}" ] && [[ " $GPU_CHECK_ONLY " != *" $name "* ]]; then
    return 0
  fi
  say "$name"
  local t0=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  say "$name: rc=$rc in $((SECONDS - t0)) s"
  [ "$rc" -eq 0 ] || failed+=("$name")
}

if [ ! -x "$WORK/jre/bin/java" ]; then
  tar xzf "$BUNDLE/jre.tgz" -C "$WORK" || { echo "cannot unpack $BUNDLE/jre.tgz" >&2; exit 1; }
fi
JAVA=("$WORK/jre/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx24g
  -cp "$BUNDLE/lib/*" quasiroll.bench.gpu.GpuCheck)
MODEL="$WORK/model"
PROMPTS=("9,40,101,33,7,250,18,64" "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24" "200")
THROUGHPUT_PROMPT="72,101,108,108,111,44,32,119,111,114,108,100,33,32,84,104"
NEW=128
BATCHES="1,16,64,256"

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; "$PY" -c \
  'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'; \
  "${JAVA[0]}" -version 2>&1 | head -1; } 2>&1 | tee -a "$LOG"

step "selftest" 150 "${JAVA[@]}" selftest 0
step "make-model" 150 "$PY" "$BUNDLE/gpu_check.py" make-model "$MODEL"
step "parity-java" 200 "${JAVA[@]}" parity 0 "$MODEL" "$WORK/parity" 32 "${PROMPTS[@]}"
step "parity-transformers" 120 "$PY" "$BUNDLE/gpu_check.py" compare "$MODEL" "$WORK/parity" 32 "${PROMPTS[@]}"
step "throughput-quasiroll" 150 "${JAVA[@]}" throughput 0 "$MODEL" "$NEW" "$THROUGHPUT_PROMPT" "$BATCHES"
step "throughput-transformers-eager" 200 "$PY" "$BUNDLE/gpu_check.py" throughput "$MODEL" "$NEW" "$THROUGHPUT_PROMPT" "$BATCHES" eager
step "throughput-transformers-sdpa" 120 "$PY" "$BUNDLE/gpu_check.py" throughput "$MODEL" "$NEW" "$THROUGHPUT_PROMPT" "$BATCHES" sdpa
"$PY" "$BUNDLE/gpu_check.py" ratios "$LOG" 2>&1 | tee -a "$LOG"

if [ ${#failed[@]} -eq 0 ]; then
  say "GPU CHECK PASS"
else
  say "GPU CHECK FAIL: ${failed[*]}"
  exit 1
fi
