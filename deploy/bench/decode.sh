#!/usr/bin/env bash
# Decode throughput: quasiroll's CPU backend vs llama.cpp on a generated ~100M-parameter GGUF,
# single stream and batched (see docs/benchmarks.md, "CPU decode", and docs/cpu-backend.md).
# Prints both engines' decode tokens/s (wall and per CPU-second of the process, steadier on a
# shared machine), the ratios and prompt prefill tokens/s. Options go to DecodeBench, e.g.
# deploy/bench/decode.sh --dtype Q4_K --threads 2 --batches 1,4,16,64 --tokens 96
# (dtypes: F32 F16 BF16 Q8_0 Q4_0 Q4_K Q6_K).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/jdk.sh
source tools/jdk.sh
quasiroll_find_jdk
mvn -B -q -o package -pl bench -am -DskipTests
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx4g \
  --enable-native-access=ALL-UNNAMED \
  -cp "bench/target/quasiroll-bench.jar:bench/target/lib/*" quasiroll.bench.DecodeBench \
  --cache bench/target/bench-models "$@"
