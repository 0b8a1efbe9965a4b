#!/usr/bin/env python3
"""The cluster benchmark's long-lived client (deploy/bench/cluster.sh): the Python client
(clients/python, StreamJobBatches) runs the same job ROUNDS + 1 times on one channel, as an RL
trainer does step after step; the first round warms up, the others are timed. Prints one line:
median samples/s of the timed rounds, and CPU per sample during them of the coordinator
(all threads, and without the JIT compiler threads), of the workers and of this client.

usage: cluster_client.py HOST:PORT MODEL PROMPTS K TOKENS ROUNDS COORDINATOR_PID [WORKER_PID...]
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))
from quasiroll_client import QuasirollClient  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid, skip_jit=False):
    """CPU seconds of a process's threads (minus C1/C2 compiler threads when skip_jit)."""
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, task)) as f:
                if skip_jit and f.read().startswith(("C1 Compiler", "C2 Compiler")):
                    continue
            with open("/proc/%d/task/%s/stat" % (pid, task)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended between listing and reading
    return total / TICK


def main(address, model, prompts, k, tokens, rounds, coordinator, *workers):
    prompts, k, tokens, rounds = int(prompts), int(k), int(tokens), int(rounds)
    coordinator, workers = int(coordinator), [int(w) for w in workers]
    batch = [{"id": "p%d" % i, "prompt": "bench prompt %d" % i} for i in range(prompts)]
    rates, samples = [], 0
    with QuasirollClient(address) as client:
        def job():
            n = 0
            for group in client.rollouts(model, batch, k, sampler="lattice", max_new_tokens=tokens, seed=1):
                n += len(group.samples)
            if n != prompts * k:
                raise SystemExit("expected %d samples, got %d" % (prompts * k, n))
            return n

        job()  # warm-up
        c0, j0, w0, own0 = cpu(coordinator), cpu(coordinator, True), sum(map(cpu, workers)), os.times()
        for _ in range(rounds):
            start = time.monotonic()
            n = job()
            rates.append(n / (time.monotonic() - start))
            samples += n
        c1, j1, w1, own1 = cpu(coordinator), cpu(coordinator, True), sum(map(cpu, workers)), os.times()
    client_cpu = (own1.user - own0.user) + (own1.system - own0.system)
    us = lambda seconds: seconds * 1e6 / samples  # noqa: E731
    print("%.0f %.1f %.1f %.1f %.1f %s" % (statistics.median(rates), us(c1 - c0), us(j1 - j0), us(w1 - w0),
                                           us(client_cpu), "/".join("%.0f" % r for r in rates)))


if __name__ == "__main__":
    main(*sys.argv[1:])
