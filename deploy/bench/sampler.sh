#!/usr/bin/env bash
# Token-selection benchmark (JMH): per-token selection cost for iid, lattice, sobol, rank1 on
# vocabularies of 32,000 and 151,936, and one read pass over the logits row (the floor).
# Prints ratios coupled/iid (goal <= 1.10) and selection/read-pass (goal <= 3).
# Then the same in thread CPU time (SelectionCpuTime), and the cost per decode setting
# (SelectionSettingsCpuTime: temperature, top-k, top-p, min-p, prob order). Takes ~4-5 minutes. Usage: deploy/bench/sampler.sh [extra JMH args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=tools/jdk.sh
source tools/jdk.sh
quasiroll_find_jdk
echo "building bench module..." >&2
mvn -B -q -pl bench -am package -DskipTests ${MVN_OFFLINE:+-o} >&2
OUT="${TMPDIR:-/tmp}/quasiroll-sampler-bench.json"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp "bench/target/quasiroll-bench.jar:bench/target/lib/*" \
  org.openjdk.jmh.Main 'quasiroll\.bench\.(TokenSelection|ReadPass)Bench' -rf json -rff "$OUT" "$@" \
  2> >(grep -v 'WARNING: Using incubator modules' >&2) | grep -E '^(Benchmark|TokenSelection|ReadPass)|Error|Exception' || true
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
"$PY" - "$OUT" <<'PYEOF'
import json, sys, platform, subprocess
res = json.load(open(sys.argv[1]))
sel, read = {}, {}
for r in res:
    p = r.get("params", {})
    score = r["primaryMetric"]["score"]
    if r["benchmark"].endswith("readPass"):
        read[p["vocab"]] = score
    else:
        sel[(p["vocab"], p["coupling"])] = score
try:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except Exception:
    cpu = platform.processor()
print(f"\nmachine: {cpu}, {len(open('/proc/cpuinfo').read().split('processor')) - 1} logical CPUs")
print(f"{'vocab':>7} {'coupling':>9} {'us/token':>9} {'vs iid':>7} {'vs read':>8}")
for v in sorted(read, key=int):
    print(f"{v:>7} {'read-pass':>9} {read[v]:9.2f}")
    iid = sel.get((v, "iid"))
    for c in ["iid", "lattice", "sobol", "rank1"]:
        s = sel.get((v, c))
        if s is None:
            print(f"{v:>7} {c:>9} {'n/a':>9}   (benchmark failed; see log above)")
            continue
        vs_iid = f"{s / iid:7.3f}" if iid else "    n/a"
        print(f"{v:>7} {c:>9} {s:9.2f} {vs_iid} {s / read[v]:8.2f}")
print("goals: coupled/iid <= 1.10; selection/read-pass <= 3")
PYEOF
echo
echo "same configurations in thread CPU time (steadier than wall time on a shared machine):"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -cp "bench/target/quasiroll-bench.jar:bench/target/lib/*" \
  quasiroll.bench.SelectionCpuTime 2> >(grep -v 'WARNING: Using incubator modules' >&2)
echo "goals: coupled/iid <= 1.10; selection/read-pass <= 3"
echo
echo "selection cost per decode setting (iid noise; temperature, top-k, top-p, min-p, vocab order), thread CPU time:"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -XX:+UseParallelGC -cp "bench/target/quasiroll-bench.jar:bench/target/lib/*" \
  quasiroll.bench.SelectionSettingsCpuTime 2> >(grep -v 'WARNING: Using incubator modules' >&2)
