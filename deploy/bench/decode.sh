#!/usr/bin/env bash
# Decode throughput: quasiroll's CPU backend vs llama.cpp on a generated ~100M-parameter GGUF,
# single stream and batched (see docs/benchmarks.md, "CPU decode"). Options go to DecodeBench,
# e.g. deploy/bench/decode.sh --dtype Q8_0 --threads 2 --batches 1,4,16,64
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -o package -pl bench -am -DskipTests
exec java --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx4g \
  -cp "bench/target/quasiroll-bench.jar:bench/target/lib/*" quasiroll.bench.DecodeBench \
  --cache bench/target/bench-models "$@"
