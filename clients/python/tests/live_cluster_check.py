"""Checks the Python client against a RUNNING coordinator (run by the Java cluster test).

usage: live_cluster_check.py HOST:PORT MODEL
Submits a job, consumes completed groups, checks a bad spec is refused with
INVALID_ARGUMENT naming the field, and checks status and cancel. Exit 0 = all good.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402
from quasiroll_client import QuasirollClient, enum_name  # noqa: E402


def main(address, model):
    k = 8
    prompts = [{"id": "py-%d" % i, "prompt": "python %d" % i} for i in range(5)]
    with QuasirollClient(address) as client:
        seen = set()
        for group in client.rollouts(model, prompts, k, sampler="lattice", max_new_tokens=6, seed=3):
            assert len(group.samples) == k, group
            assert [s.index for s in group.samples] == list(range(k))
            assert group.summary.k == k and group.summary.distinct_answers >= 1
            seen.add(group.prompt_id)
        assert seen == {p["id"] for p in prompts}, seen

        # One finished job read three ways: batched (the default), one event per message
        # (StreamJob, what an older coordinator offers), and batched from a middle offset.
        job = client.submit(client.job_spec(model, prompts, k, sampler="lattice", max_new_tokens=6, seed=4))
        batches = list(client.event_batches(job))
        batched = [e.SerializeToString() for b in batches for e in b]
        assert [e.offset for b in batches for e in b] == list(range(len(batched))), "offsets not consecutive"
        single = QuasirollClient(address)
        single._batched = False
        with single:
            one_by_one = [e.SerializeToString() for e in single.events(job)]
        assert batched == one_by_one, "StreamJobBatches and StreamJob disagree"
        middle = len(batched) // 2
        assert [e.SerializeToString() for e in client.events(job, from_offset=middle)] == batched[middle:]

        try:
            client.submit(client.job_spec(model, prompts, k=0))
            raise AssertionError("k=0 was accepted")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
            assert "k 0" in e.details(), e.details()

        job = client.submit(client.job_spec(model, prompts * 1, k=4, max_new_tokens=4, seed=9))
        status = client.status(job)
        assert status.job_id == job
        cancelled = client.cancel(job)
        assert enum_name("JobState", cancelled.state) in ("JOB_STATE_CANCELLED", "JOB_STATE_SUCCEEDED"), cancelled
    print("python client OK: %d groups; %d events in %d batches" % (len(seen), len(batched), len(batches)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
