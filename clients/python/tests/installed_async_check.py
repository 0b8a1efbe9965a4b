"""Checks the INSTALLED package (pip install into a fresh virtual environment) against a RUNNING
coordinator, through the asyncio client (run by the Java cluster test, from a folder outside the
repository so that only the installed copy can be imported).

usage: installed_async_check.py HOST:PORT MODEL
Exit 0 = the package imported from the virtual environment, and the async client streamed
every group of a job, the same groups as the synchronous client.
"""
import asyncio
import os
import sys

import quasiroll_client
from quasiroll_client import AsyncQuasirollClient, QuasirollClient


def installed_in_this_environment():
    where = os.path.realpath(quasiroll_client.__file__)
    prefix = os.path.realpath(sys.prefix)
    assert sys.prefix != sys.base_prefix, "not running inside a virtual environment"
    assert where.startswith(prefix + os.sep), "quasiroll_client imported from %s, not %s" % (where, prefix)
    return where


def texts(groups):
    return {g.prompt_id: [s.text for s in g.samples] for g in groups}


async def async_groups(address, model, prompts, k):
    out = []
    async with AsyncQuasirollClient(address) as client:
        async for group in client.rollouts(model, prompts, k, sampler="lattice", max_new_tokens=6, seed=5):
            assert [s.index for s in group.samples] == list(range(k)), group
            out.append(group)
    return out


def main(address, model):
    where = installed_in_this_environment()
    k = 4
    prompts = [{"id": "venv-%d" % i, "prompt": "venv %d" % i} for i in range(4)]
    groups = asyncio.run(async_groups(address, model, prompts, k))
    assert {g.prompt_id for g in groups} == {p["id"] for p in prompts}, groups
    with QuasirollClient(address) as client:
        again = list(client.rollouts(model, prompts, k, sampler="lattice", max_new_tokens=6, seed=5))
    assert texts(groups) == texts(again), "async and sync clients disagree on the same job"
    print("installed package OK: %s, %d groups via asyncio" % (where, len(groups)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
