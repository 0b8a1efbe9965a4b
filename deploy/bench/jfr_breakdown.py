#!/usr/bin/env python3
"""Where a process's CPU went, from a JFR recording with CPU-time samples (jdk.CPUTimeSample,
Java 25): each sample is put in the first category (in the order below) one of whose markers
occurs in its stack, and the shares are printed. Used by deploy/bench/http.sh with
BENCH_PROFILE=DIR (docs/http-api.md, "Where the CPU goes").

usage: jfr_breakdown.py JFR_TOOL RECORDING.jfr
"""
import collections
import json
import subprocess
import sys

# (category, stack markers), first match wins: the costs the HTTP benchmark cares about.
CATEGORIES = [
    ("job store: SQLite writes and commits", ["JobStore.write", "org.sqlite"]),
    ("HTTP: request handler (JSON parse, validation, submit, response)", ["HttpApiServer.", "GenerationService.", "RequestCoalescer."]),
    ("job manager: results, scoring, shard ends", ["ResultIntake", "SampleScoring", "JobManager.onResultsArrived"]),
    ("job manager: admission, dispatch, other messages", ["quasiroll.coordinator.job."]),
    ("worker: shard runs (decode thread, hashing, result batches)", ["WorkerAgent.runShard", "ShardRunner"]),
    ("worker agent: assignments, credits", ["quasiroll.worker.node.WorkerAgent"]),
    ("Artery (cluster messages: shards, credits)", ["org.apache.pekko.remote"]),
    ("pekko-http and TCP streams (HTTP server, Artery's TCP)", ["org.apache.pekko.http", "org.apache.pekko.stream", "org.apache.pekko.io"]),
    ("gRPC data plane (results, acks)", ["io.grpc", "DataPlaneService", "DataPlaneClient"]),
    ("logging", ["ch.qos.logback", "org.slf4j"]),
    ("thread pools: waking, parking, idle spinning", ["ForkJoinPool", "ThreadPoolExecutor", "org.apache.pekko.dispatch"]),
]


def main():
    tool, recording = sys.argv[1], sys.argv[2]
    out = subprocess.run([tool, "print", "--json", "--stack-depth", "200", "--events", "jdk.CPUTimeSample", recording],
                         capture_output=True, text=True, check=True).stdout
    counts = collections.Counter()
    total = 0
    for e in json.loads(out)["recording"]["events"]:
        st = e["values"].get("stackTrace")
        if not st:
            continue
        total += 1
        frames = " ".join(f["method"]["type"]["name"].replace("/", ".") + "." + f["method"]["name"] for f in st["frames"])
        for name, markers in CATEGORIES:
            if any(m in frames for m in markers):
                counts[name] += 1
                break
        else:
            counts["other"] += 1
    print("  %d CPU-time samples" % total)
    for name, n in counts.most_common():
        print("  %5.1f%%  %s" % (100.0 * n / max(total, 1), name))


if __name__ == "__main__":
    main()
