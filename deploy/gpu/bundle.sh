#!/usr/bin/env bash
# Makes the self-contained bundle deploy/gpu-check.sh runs from on a GPU machine without
# Java: a jlink'ed JRE (tar.gz), the jars the check needs (the JCuda natives jar cut down to
# the driver-API library), gpu-check.sh and gpu_check.py. Under 64 MiB in all.
#   deploy/gpu/bundle.sh DEST        (e.g. out/gpu-carry; builds with mvn -o package first)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="$(mkdir -p "${1:?usage: bundle.sh DEST}" && cd "$1" && pwd)"
cd "$ROOT"
if [ "${SKIP_BUILD:-}" != 1 ]; then
  mvn -B -q -o -pl bench -am package -DskipTests
fi
rm -rf "${DEST:?}/lib" && mkdir -p "$DEST/lib"
cp bench/target/quasiroll-bench.jar "$DEST/lib/"
for j in quasiroll-worker quasiroll-cluster quasiroll-common quasiroll-proto jcuda-12 jackson-databind jackson-core \
  jackson-annotations slf4j-api protobuf-java-4 config-1 commons-math3; do
  cp bench/target/lib/"$j"*.jar "$DEST/lib/"
done
tmp="$(mktemp -d)"
(cd "$tmp" && unzip -q "$ROOT"/bench/target/lib/jcuda-natives-*-linux-x86_64.jar 'lib/libJCudaDriver-*')
jar cf "$DEST/lib/jcuda-natives-driver-linux-x86_64.jar" -C "$tmp" lib
rm -rf "$tmp"
if [ ! -f "$DEST/jre.tgz" ]; then
  jre="$(mktemp -d)/jre"
  jlink --add-modules java.base,java.logging,jdk.incubator.vector,jdk.unsupported,java.management,java.naming,java.sql,java.xml,java.desktop \
    --strip-debug --no-man-pages --no-header-files --compress=2 --output "$jre"
  tar czf "$DEST/jre.tgz" -C "$(dirname "$jre")" jre
  rm -rf "$(dirname "$jre")"
fi
cp deploy/gpu-check.sh deploy/gpu/gpu_check.py "$DEST/"
du -sh "$DEST"
