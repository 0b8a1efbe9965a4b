#!/usr/bin/env bash
# Sourced by ./quasiroll, ./run-tests and the bench/deploy scripts: finds a JDK >= 25 and
# exports JAVA_HOME and QUASIROLL_JAVA. Order: $JAVA_HOME, then the usual install locations
# (/usr/lib/jvm/*, /opt/java/*, /usr/local/*jdk*), else a clear message naming what to install.
# The default `java` on this kind of machine is 17; quasiroll needs 25 (Vector API int8
# widening, FFM MemorySegment mapping).

QUASIROLL_MIN_JAVA=25

quasiroll_java_major() { # $1 = a JDK home; prints its feature version or nothing
  local rel="$1/release"
  [ -x "$1/bin/java" ] || return 1
  if [ -f "$rel" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel"
  else
    "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'
  fi
}

quasiroll_find_jdk() {
  local cand major
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /usr/lib/jvm/* \
      /opt/java/* /usr/local/*jdk*; do
    [ -n "$cand" ] && [ -d "$cand" ] || continue
    major="$(quasiroll_java_major "$cand" 2>/dev/null || true)"
    if [ -n "$major" ] && [ "$major" -ge "$QUASIROLL_MIN_JAVA" ]; then
      export JAVA_HOME="$cand"
      export QUASIROLL_JAVA="$cand/bin/java"
      return 0
    fi
  done
  echo "quasiroll: needs a JDK >= $QUASIROLL_MIN_JAVA (found none in \$JAVA_HOME=${JAVA_HOME:-<unset>}, /usr/lib/jvm, /opt/java)." >&2
  echo "quasiroll: install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium repository) or unpack a Temurin 25 JDK and set JAVA_HOME to it." >&2
  return 1
}
