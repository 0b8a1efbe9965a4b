#!/usr/bin/env bash
# Decode throughput: quasiroll's CPU backend vs llama.cpp on a generated ~100M-parameter GGUF,
# single stream and batched (see README, section "CPU backend"). Options go to DecodeBench,
# e.g. deploy/bench/decode.sh --dtype Q8_0 --threads 2 --batches 1,4,16,64
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
