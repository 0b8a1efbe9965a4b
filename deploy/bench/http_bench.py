#!/usr/bin/env python3
"""Driver of deploy/bench/http.sh: measures the coordinator's HTTP API against a running
local cluster. Standard library only for HTTP (http.client, keep-alive connections, one per
thread); gRPC through clients/python (python3-grpcio).

usage: http_bench.py HTTP_BASE GRPC_ADDR LOADTEST_MODEL STREAM_MODEL
"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))

base, grpc_addr, loadtest, stream_model = sys.argv[1:5]
url = urllib.parse.urlparse(base)
WARMUP = int(os.environ.get("BENCH_WARMUP", "1500"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "3000"))
THREADS = int(os.environ.get("BENCH_THREADS", "16"))
PROMPTS_64 = int(os.environ.get("BENCH_PROMPTS", "50"))


def cpu_seconds(pid_env):
    """User + system CPU seconds of the process whose pid is in the environment variable
    (None when unset): load-independent, unlike requests/s on a shared machine."""
    pid = os.environ.get(pid_env)
    if not pid:
        return None
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connection():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=120)


def post(conn, path, body):
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError("%s -> %d %s" % (path, r.status, data[:300]))
    return json.loads(data)


def jfr(pid_envs, command, *args):
    """BENCH_PROFILE=DIR: runs a JFR diagnostic command on each process (the recordings go to
    DIR/<role>.jfr), so that the n=1 phase is profiled with CPU-time samples (Java 25)."""
    jcmd = os.path.join(os.environ["JAVA_HOME"], "bin", "jcmd")
    for v in pid_envs:
        name = "coordinator" if "COORDINATOR" in v else "worker"
        extra = ["filename=%s/%s.jfr" % (os.environ["BENCH_PROFILE"], name)] if command == "JFR.start" else []
        subprocess.run([jcmd, os.environ[v], command, *args, *extra], check=True, capture_output=True)


def requests_per_second():
    """n = 1 short completions from THREADS keep-alive connections: BENCH_WARMUP requests
    (JIT), then exactly BENCH_REQUESTS timed ones. Also the coordinator's and the load-test
    worker's CPU time per timed request, less what they burn idle (cluster gossip, timers),
    measured over 3 s just before: that number does not depend on the machine's load."""
    body = {"model": loadtest, "prompt": "short", "max_tokens": 4, "seed": 1}
    pids = ("QR_BENCH_COORDINATOR_PID", "QR_BENCH_WORKER_PID")

    def run(total):
        left = [total]
        lock = threading.Lock()

        def loop():
            conn = connection()
            while True:
                with lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                post(conn, "/v1/completions", body)

        threads = [threading.Thread(target=loop) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    run(WARMUP)
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        jfr(pids, "JFR.start", "name=bench", "settings=profile", "jdk.CPUTimeSample#enabled=true",
            "jdk.CPUTimeSample#throttle=1ms")
    idle0, t0 = [cpu_seconds(v) for v in pids], time.monotonic()
    time.sleep(3)
    idle1, t1 = [cpu_seconds(v) for v in pids], time.monotonic()
    cpu0 = [cpu_seconds(v) for v in pids]
    start, own0 = time.monotonic(), os.times()
    run(REQUESTS)
    wall, own1 = time.monotonic() - start, os.times()
    cpu1 = [cpu_seconds(v) for v in pids]
    if profile:
        jfr(pids, "JFR.stop", "name=bench")
    per = [None if a is None else ((b - a) - (i1 - i0) / (t1 - t0) * wall) / REQUESTS * 1e3
           for a, b, i0, i1 in zip(cpu0, cpu1, idle0, idle1)]
    # this client's own CPU (all its threads): part of what the machine's 2 cores serve
    per.append(((own1.user + own1.system) - (own0.user + own0.system)) / REQUESTS * 1e3)
    return REQUESTS / wall, per


def http_samples_per_second(k):
    prompts = ["bench prompt %d" % i for i in range(PROMPTS_64)]
    body = {"model": loadtest, "prompt": prompts, "n": k, "max_tokens": 8, "seed": 1, "sampler": "lattice"}
    conn = connection()
    post(conn, "/v1/completions", body)  # warm-up
    start = time.monotonic()
    out = post(conn, "/v1/completions", body)
    wall = time.monotonic() - start
    assert len(out["choices"]) == k * PROMPTS_64
    return k * PROMPTS_64 / wall


def grpc_samples_per_second(k):
    from quasiroll_client import QuasirollClient

    prompts = [{"id": str(i), "prompt": "bench prompt %d" % i} for i in range(PROMPTS_64)]
    with QuasirollClient(grpc_addr) as client:
        def run():
            n = 0
            for g in client.rollouts(loadtest, prompts, k, sampler="lattice", max_new_tokens=8, seed=1):
                n += len(g.samples)
            return n
        run()  # warm-up
        start = time.monotonic()
        n = run()
        wall = time.monotonic() - start
    assert n == k * PROMPTS_64
    return n / wall


def first_token_latency(runs=20):
    body = {"model": stream_model, "prompt": "t1 t2", "max_tokens": 64, "seed": 1, "stream": True}
    conn = connection()
    times = []
    for i in range(runs + 3):
        body["seed"] = i
        start = time.monotonic()
        conn.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        first = None
        for line in r:
            if first is None and line.startswith(b"data: {") and b'"text":""' not in line:
                first = time.monotonic() - start
            if line.startswith(b"data: [DONE]"):
                break
        r.read()
        if i >= 3:  # the first few warm up the JIT
            times.append(first)
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.9)]


rps, cpu_ms = requests_per_second()
print("n=1 short completions: %.0f requests/s (%d requests after %d warm-up, %d client threads)  goal >= 2000"
      % (rps, REQUESTS, WARMUP, THREADS))
if cpu_ms[0] is not None:
    print("  CPU per request (less idle): coordinator %.2f ms, load-test worker %.2f ms, this client %.2f ms"
          " (= %.0f requests/s per coordinator core)" % (cpu_ms[0], cpu_ms[1], cpu_ms[2], 1000 / cpu_ms[0]))
if os.environ.get("BENCH_PROFILE"):
    for name in ("coordinator", "worker"):
        print("  where the %s's CPU went during the timed requests (JFR CPU-time samples):" % name)
        sys.stdout.flush()
        subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "jfr_breakdown.py"),
                        os.path.join(os.environ["JAVA_HOME"], "bin", "jfr"),
                        os.path.join(os.environ["BENCH_PROFILE"], name + ".jfr")], check=True)
if os.environ.get("BENCH_N1_ONLY") == "1":
    sys.exit(0)
h = http_samples_per_second(64)
g = grpc_samples_per_second(64)
print("n=64, %d prompts, 8 tokens: HTTP %.0f samples/s, gRPC %.0f samples/s, ratio %.2f  goal >= 0.8"
      % (PROMPTS_64, h, g, h / g))
median, p90 = first_token_latency()
print("first streamed token (%s, 64 tokens): median %.1f ms, p90 %.1f ms  goal <= 50 ms"
      % (stream_model, median * 1000, p90 * 1000))
