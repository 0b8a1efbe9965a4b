"""Checks policy publishing against a RUNNING cluster whose workers serve a real model (run by
cli/src/test/.../PolicyClusterTest, or by hand).

usage: policy_live_check.py HOST:PORT MODEL_ID MODEL_DIR
MODEL_ID is what the workers registered (their --model), MODEL_DIR holds its
model.safetensors. Exit 0 = all good; prints one line per check and the measured timings.
"""
import asyncio
import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402
from quasiroll_client import AsyncQuasirollClient, QuasirollClient, enum_name, safetensors_io  # noqa: E402

ABORTED = 5


def scaled(weights, name, factor):
    """A copy of the F32 weights with tensor `name` multiplied by factor."""
    out = dict(weights)
    dtype, shape, raw = weights[name]
    n = len(raw) // 4
    vals = struct.unpack("<%df" % n, raw)
    out[name] = (dtype, shape, struct.pack("<%df" % n, *[v * factor for v in vals]))
    return out


def prompts(tag, n):
    return [{"id": "%s-%d" % (tag, i), "prompt": "Countdown: make %d from 3 5 7 using + - * / and "
             "parentheses, each number at most once.\nAnswer: " % (i + 1),
             "metadata": {"task": "countdown", "numbers": "3,5,7", "target": str(i + 1)}} for i in range(n)]


def check_groups(groups, k, what):
    for g in groups:
        versions = {s.policy_version for s in g.samples}
        assert versions == {g.policy_version}, "%s: group %s mixes versions %s (summary %d)" % (
            what, g.prompt_id, versions, g.policy_version)
        assert [s.index for s in g.samples] == list(range(k)), (what, g.prompt_id, [s.index for s in g.samples])


def main(address, model, model_dir):
    client = QuasirollClient(address)
    base = safetensors_io.load_bytes(os.path.join(model_dir, "model.safetensors"))
    head = "lm_head.weight"

    # 1. a full policy streamed over gRPC; every worker serves it
    t0 = time.time()
    r1 = client.publish_policy(model, base)
    publish_s = time.time() - t0
    status = client.policy_status(model)
    assert status.models[0].latest_version == r1.policy_version, status
    assert len(status.workers) >= 2 and all(w.serving_version == r1.policy_version for w in status.workers), status
    print("publish full policy (%.1f MB streamed): version %d on %d workers, %d ms in the cluster, %.3f s end to end"
          % (r1.bytes / 1e6, r1.policy_version, r1.workers, r1.publish_ms, publish_s))

    # the next shard on the new version: time from the publish call to its first sample
    w2 = scaled(base, head, 0.9)
    t0 = time.time()
    r2 = client.publish_policy(model, w2, partial=False)
    job = client.submit(client.job_spec(model, prompts("first", 1), k=2, max_new_tokens=1, seed=5,
                                        policy_version=r2.policy_version))
    first = next(e for e in client.events(job) if e.WhichOneof("event") == "sample")
    first_s = time.time() - t0
    assert first.sample.policy_version == r2.policy_version
    print("publish + first sample of the next shard on it: %.3f s" % first_s)

    # 2. publish under load: a job on every worker while two versions are published
    k = 8

    async def under_load():
        async with AsyncQuasirollClient(address) as aclient:
            got = []
            async for g in aclient.rollouts(model, prompts("load", 12), k, sampler="lattice",
                                            max_new_tokens=24, seed=11):
                got.append(g)
                if len(got) == 2:
                    await aclient.publish_policy(model, scaled(base, head, 0.8))
                    await aclient.publish_policy(model, {head: base[head]}, partial=True)
            return got

    groups = asyncio.run(under_load())
    assert len(groups) == 12, len(groups)
    check_groups(groups, k, "under load")
    print("publish under load (async client): 12 groups, versions %s, none mixed"
          % sorted({g.policy_version for g in groups}))
    latest = client.policy_status(model).models[0].latest_version

    # 3. exact versions, and a version no longer served
    groups = list(client.rollouts(model, prompts("exact", 3), 4, max_new_tokens=4, seed=3, policy_version=latest))
    assert {g.policy_version for g in groups} == {latest}
    for gone, why in [(latest + 50, "was never published"), (r1.policy_version, "is no longer served")]:
        try:
            list(client.rollouts(model, prompts("gone", 1), 2, max_new_tokens=2, policy_version=gone))
            raise AssertionError("policy_version %d was accepted" % gone)
        except grpc.RpcError as e:  # refused at submit, no job is created
            assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
            assert "policy_version %d of model" % gone in e.details() and why in e.details(), e.details()
    print("exact policy_version: honoured; a version never published or no longer served is INVALID_ARGUMENT")

    # 4. bad sources are refused naming the tensor or path; the old version keeps serving
    for bad, partial, want in [
            ({head: ("F32", [3, 4], bytes(48))}, True, "'lm_head.weight' is F32[3, 4]"),
            ({head: ("BF16", base[head][1], bytes(len(base[head][2]) // 2))}, True, "BF16"),
            ({"model.layers.99.mlp.up_proj.weight": ("F32", [1], bytes(4))}, True, "is not a weight"),
            ({head: base[head]}, False, "is missing"),
            ("../outside", False, "source_path '../outside' is outside"),
            ("does/not/exist", False, "'does/not/exist' is not a directory")]:
        try:
            client.publish_policy(model, bad, partial=partial)
            raise AssertionError("bad source accepted: %s" % want)
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and want in e.details(), (want, e.details())
    assert client.policy_status(model).models[0].latest_version == latest
    groups = list(client.rollouts(model, prompts("after-bad", 2), 2, max_new_tokens=2, seed=1))
    assert {g.policy_version for g in groups} == {latest}
    print("bad sources refused naming the tensor or path; version %d keeps serving" % latest)

    # 5. abort: running shards stop, their samples come back ABORTED with their version, and
    # the groups are regenerated on the new version
    def run_with_publish(spec, mode):
        job = client.submit(spec)
        events, published = [], {}

        def publish_when_running():
            published["r"] = client.publish_policy(model, scaled(base, head, 0.7), mode=mode)
            published["at"] = len(events)
        started = False
        for e in client.events(job):
            events.append(e)
            if not started and e.WhichOneof("event") == "sample":
                started = True
                t = threading.Thread(target=publish_when_running)
                t.start()
        t.join()
        return events, published

    # a high temperature keeps samples away from EOS, so they are still running at the publish
    spec = client.job_spec(model, prompts("abort", 16), k, max_new_tokens=96, seed=21, temperature=4.0)
    events, published = run_with_publish(spec, "abort")
    new = published["r"].policy_version
    aborted = [e.sample for e in events if e.WhichOneof("event") == "sample" and e.sample.finish_reason == ABORTED]
    summaries = [e.group for e in events if e.WhichOneof("event") == "group"]
    assert len(summaries) == 16
    assert all(s.policy_version < new for s in aborted), "aborted samples carry their old version"
    regenerated = {s.prompt_id for s in aborted}
    for g in summaries:
        if g.prompt_id in regenerated:
            assert g.policy_version == new, (g.prompt_id, g.policy_version, new)
    assert aborted, "no sample was running when the abort-mode publish went live"
    print("abort: %d samples came back ABORTED (old version); their %d groups were regenerated on version %d"
          % (len(aborted), len(regenerated), new))

    # 6. max_staleness=0: no group is delivered on a version older than the newest
    spec = client.job_spec(model, prompts("stale", 16), k, max_new_tokens=64, seed=31, max_staleness=0,
                           temperature=4.0)
    events, published = run_with_publish(spec, "wait")
    new = published["r"].policy_version
    after = [e.group for e in events[published["at"]:] if e.WhichOneof("event") == "group"]
    assert all(g.policy_version == new for g in after), [g.policy_version for g in after]
    print("max_staleness=0: the %d groups delivered after the publish all on version %d" % (len(after), new))
    # 7. zero_variance: drop replaces all-equal groups with reserve prompts; grow doubles them
    groups = list(client.rollouts(model, prompts("drop", 12), 4, max_new_tokens=12, seed=41,
                                  zero_variance="drop", target_groups=3))
    assert len(groups) <= 3 and all(not g.summary.zero_variance for g in groups), \
        [(g.prompt_id, list(g.summary.rewards)) for g in groups]
    print("zero_variance=drop: %d useful groups delivered (target 3)" % len(groups))
    groups = list(client.rollouts(model, prompts("grow", 6), 2, sampler="lattice", max_new_tokens=12, seed=43,
                                  zero_variance="grow", grow_max_k=8))
    sizes = sorted(g.summary.k for g in groups)
    for g in groups:
        assert len(g.samples) == g.summary.k and [s.index for s in g.samples] == list(range(g.summary.k))
        assert g.summary.k == 2 or (g.summary.k in (4, 8) and len(set(g.summary.rewards[:g.summary.k // 2])) == 1)
    print("zero_variance=grow (lattice, k=2, cap 8): group sizes %s" % sizes)
    client.close()
    print("policy live check OK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
