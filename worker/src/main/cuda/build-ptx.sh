#!/usr/bin/env bash
# Regenerates the committed PTX of the CUDA backend from worker/src/main/cuda/*.cu.
# The Maven build never runs nvcc: it packages the committed PTX, so machines without the
# CUDA toolkit build and test. Run this after editing a .cu file and commit the result:
# the .ptx files and cuda-sources.sha256, the SHA-256 of every kernel source the PTX was
# built from (written last, only when every file compiled). PtxSourcesHashTest (worker
# tests) recomputes those hashes and fails the build when a kernel source changed without
# a rebuild.
#
# Target: compute_80 PTX (tensor-core bf16 wmma needs sm_80). The driver JIT-compiles it
# for the GPU at hand (A100 sm_80, H100/H200 sm_90, ...) in cuModuleLoadData; the PTX ISA
# version that nvcc writes must be one the driver knows (CUDA 13.0 nvcc -> driver >= 580).
set -euo pipefail
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SRC/../../../.." && pwd)"
DST="$ROOT/worker/src/main/resources/quasiroll/cuda"
NVCC="${NVCC:-nvcc}"
command -v "$NVCC" >/dev/null || { echo "build-ptx: nvcc not found (set NVCC or install the CUDA toolkit)" >&2; exit 1; }
mkdir -p "$DST"
for cu in "$SRC"/*.cu; do
  name="$(basename "$cu" .cu)"
  "$NVCC" -ptx -arch=compute_80 -O3 -std=c++17 -o "$DST/$name.ptx" "$cu"
  # Check that ptxas accepts it for the GPUs we run on, and report register spills.
  for sm in sm_80 sm_90; do
    "$NVCC" -cubin -arch="$sm" -O3 -std=c++17 --resource-usage -o /dev/null "$cu" 2>&1 \
      | { grep -E 'error|[1-9][0-9]* bytes spill' | sed "s/^/build-ptx: $name $sm: /" || true; }
  done
  echo "build-ptx: $DST/$name.ptx ($(wc -c <"$DST/$name.ptx") bytes)"
done
# Same format as `sha256sum`: "<hex>  <file name>" per kernel source, sorted by name (C
# locale). Headers (.cuh) count too, since a .cu includes them.
shopt -s nullglob
sources=()
while IFS= read -r f; do sources+=("$f"); done < <(cd "$SRC" && for f in *.cu *.cuh; do echo "$f"; done | LC_ALL=C sort)
(cd "$SRC" && sha256sum -- "${sources[@]}") >"$DST/cuda-sources.sha256"
echo "build-ptx: $DST/cuda-sources.sha256 (commit it with the .ptx files)"
