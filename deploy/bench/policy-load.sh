#!/usr/bin/env bash
# How fast a worker takes a ~1 GB published policy (F32 safetensors) from the page cache:
# PolicyVersions.load (map + check + build the backend) plus one read of every weight, vs a
# plain sequential read of the same file in the same run (see docs/rl.md). Options go to
# PolicyLoadBench: --layers N (5 = 1.01 GB), --repeats R, --dir DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/jdk.sh && quasiroll_find_jdk >/dev/null
mvn -B -q -o package -pl bench -am -DskipTests
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx2g \
  -cp "bench/target/quasiroll-bench.jar:bench/target/lib/*" quasiroll.bench.PolicyLoadBench "$@"
