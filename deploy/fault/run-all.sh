#!/usr/bin/env bash
# Runs every real-process fault script (loopback only, each bounded by its own deadlines)
# and summarizes. The in-process fault tests (poison job, forged results, verifier timeouts,
# restart/resume, rogue cluster node, TLS) run in CI with the unit tests.
#   deploy/fault/run-all.sh            builds first unless QUASIROLL_SKIP_BUILD=1
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
if [ "${QUASIROLL_SKIP_BUILD:-}" != "1" ]; then
  "$ROOT/quasiroll" --version >/dev/null 2>&1 || true # the launcher builds when sources changed
fi
status=0
for t in coordinator-restart worker-faults partition disk-full soak; do
  echo "=== $t"
  start=$SECONDS
  QR_SOAK_JOBS="${QR_SOAK_JOBS:-20}" timeout 1800 "$HERE/$t.sh"
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "=== $t: PASS ($((SECONDS - start)) s)"
  elif [ $rc -eq 77 ]; then
    echo "=== $t: SKIPPED (see its message)"
  else
    echo "=== $t: FAIL ($((SECONDS - start)) s)"; status=1
  fi
done
exit $status
