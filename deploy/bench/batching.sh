#!/usr/bin/env bash
# One worker's samples/s with continuous batching vs the shard-at-a-time loop, same run, same
# model (default: the demo model on 256 prompts x k = 4). Options go to BatchingBench, e.g.
# deploy/bench/batching.sh --prompts 256 --k 4 --max-new-tokens 24 --rows 256 --rounds 2
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/jdk.sh && quasiroll_find_jdk
mvn -B -q -o package -pl bench -am -DskipTests
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx2g \
  -cp "bench/target/quasiroll-bench.jar:bench/target/lib/*" quasiroll.bench.BatchingBench "$@"
