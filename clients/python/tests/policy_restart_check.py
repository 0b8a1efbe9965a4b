"""Checks that policy versions survive a coordinator restart, against a RUNNING cluster (run by
cli/src/test/.../PolicyClusterTest around a coordinator restart, or by hand).

usage: policy_restart_check.py HOST:PORT MODEL_ID MODEL_DIR before
       policy_restart_check.py HOST:PORT MODEL_ID MODEL_DIR after N
`before` prints "latest N" (the newest published version). `after N` (once the restarted
coordinator has its workers back) checks that the newest version is still N and every worker
serves it, that a job pinned to N runs on it, that the next publish gets N + 1 (numbers are
never reused: a worker that still holds an old version N + 1 would otherwise serve it under
the new number), and that a job pinned to N + 1 runs on it. Exit 0 = all good.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from quasiroll_client import QuasirollClient, safetensors_io  # noqa: E402
from policy_live_check import check_groups, prompts, scaled  # noqa: E402


def main(address, model, model_dir, mode, expected=None):
    client = QuasirollClient(address)
    if mode == "before":
        print("latest %d" % client.policy_status(model).models[0].latest_version)
        return
    n = int(expected)
    deadline = time.time() + 60
    while True:  # the rejoined workers load the kept versions before they take shards
        status = client.policy_status(model)
        latest = status.models[0].latest_version if status.models else 0
        serving = sorted(w.serving_version for w in status.workers)
        if latest == n and len(serving) >= 2 and all(v == n for v in serving):
            break
        assert time.time() < deadline, "after the restart: latest %d, workers serve %s; expected %d" % (
            latest, serving, n)
        time.sleep(0.5)
    print("after the restart: version %d is still the newest and served by %d workers" % (n, len(serving)))
    groups = list(client.rollouts(model, prompts("restart-old", 2), 2, max_new_tokens=4, seed=3, policy_version=n))
    check_groups(groups, 2, "pinned to the restored version")
    assert all(g.policy_version == n for g in groups), [g.policy_version for g in groups]
    base = safetensors_io.load_bytes(os.path.join(model_dir, "model.safetensors"))
    r = client.publish_policy(model, scaled(base, "lm_head.weight", 0.8))
    assert r.policy_version == n + 1, "the first publish after the restart got version %d, expected %d" % (
        r.policy_version, n + 1)
    groups = list(client.rollouts(model, prompts("restart-new", 2), 2, max_new_tokens=4, seed=3,
                                  policy_version=r.policy_version))
    check_groups(groups, 2, "pinned to the new version")
    assert all(g.policy_version == n + 1 for g in groups), [g.policy_version for g in groups]
    print("publish after the restart: version %d on %d workers" % (r.policy_version, r.workers))
    print("policy restart check OK")
    client.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
