"""The asyncio client: the same calls as QuasirollClient, as coroutines and async iterators.

    async with AsyncQuasirollClient("127.0.0.1:7470") as client:
        async for group in client.rollouts("demo", prompts, k=8, sampler="lattice"):
            ...
        await client.publish_policy("demo", model.state_dict(), partial=False)
"""
import asyncio
from typing import AsyncIterator, Dict, Optional, Sequence

import grpc
import grpc.aio

from ._proto import MESSAGES, enum_name
from .client import (_CHANNEL_OPTIONS, CompletedGroup, GroupAssembler, JobFailed, _is_final,
                     QuasirollClient, _bind_methods, _channel_credentials, publish_requests)


class AsyncQuasirollClient:
    """QuasirollService over grpc.aio; create it inside a running event loop. The arguments are
    those of QuasirollClient (token, TLS files)."""

    def __init__(self, address: str = "127.0.0.1:7470", token: Optional[str] = None,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None):
        credentials = _channel_credentials(tls_ca, tls_cert, tls_key)
        if credentials is None:
            self._channel = grpc.aio.insecure_channel(address, options=_CHANNEL_OPTIONS)
        else:
            self._channel = grpc.aio.secure_channel(address, credentials, options=_CHANNEL_OPTIONS)
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        self._batched = True  # StreamJobBatches until the coordinator says UNIMPLEMENTED
        _bind_methods(self, self._channel)

    job_spec = staticmethod(QuasirollClient.job_spec)

    async def close(self):
        await self._channel.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def submit(self, spec) -> str:
        return (await self._submit(MESSAGES["SubmitJobRequest"](spec=spec), metadata=self._metadata)).job_id

    async def status(self, job_id: str):
        return await self._status(MESSAGES["GetJobStatusRequest"](job_id=job_id), metadata=self._metadata)

    async def cancel(self, job_id: str):
        return (await self._cancel(MESSAGES["CancelJobRequest"](job_id=job_id), metadata=self._metadata)).status

    async def events(self, job_id: str, from_offset: int = 0, retries: int = 10) -> AsyncIterator[object]:
        """Every JobEvent from from_offset on, resuming after dropped connections."""
        async for batch in self.event_batches(job_id, from_offset, retries):
            for event in batch:
                yield event

    async def event_batches(self, job_id: str, from_offset: int = 0,
                            retries: int = 10) -> AsyncIterator[list]:
        """Every JobEvent from from_offset on, as lists of consecutive events (StreamJobBatches;
        StreamJob on a coordinator without it), resuming after dropped connections."""
        offset, failures = from_offset, 0
        while True:
            try:
                async for events in self._batches_from(job_id, offset):
                    if not events:
                        continue
                    offset, failures = events[-1].offset + 1, 0
                    yield events
                    if _is_final(events[-1]):
                        return
                return
            except grpc.aio.AioRpcError as e:
                if e.code() == grpc.StatusCode.UNIMPLEMENTED and self._batched:
                    self._batched = False  # an older coordinator: one event per message
                    continue
                failures += 1
                if e.code() != grpc.StatusCode.UNAVAILABLE or failures > retries:
                    raise
                await asyncio.sleep(0.5 * failures)

    async def _batches_from(self, job_id: str, offset: int) -> AsyncIterator[list]:
        request = MESSAGES["StreamJobRequest"](job_id=job_id, from_offset=offset)
        if self._batched:
            async for batch in self._stream_batches(request, metadata=self._metadata):
                yield list(batch.events)
        else:
            async for event in self._stream(request, metadata=self._metadata):
                yield [event]

    async def groups(self, job_id: str, raise_on_failure: bool = True,
                     include_dropped: bool = False) -> AsyncIterator[CompletedGroup]:
        assembler = GroupAssembler()
        async for event in self.events(job_id):
            group = assembler.add(event)
            if group is not None:
                if include_dropped or not group.summary.dropped:
                    yield group
            elif event.WhichOneof("event") == "status" and raise_on_failure and \
                    enum_name("JobState", event.status.state) in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
                raise JobFailed(event.status)

    async def rollouts(self, model: str, prompts: Sequence[Dict], k: int, **options) -> AsyncIterator[CompletedGroup]:
        """Submits a job and yields its completed groups as they complete."""
        job = await self.submit(self.job_spec(model, prompts, k, **options))
        async for group in self.groups(job):
            yield group

    async def publish_policy(self, model_id: str, path_or_state_dict, partial: bool = False,
                             mode: str = "wait", write_to: Optional[str] = None,
                             data_dir_path: Optional[str] = None):
        """See QuasirollClient.publish_policy."""
        requests = publish_requests(model_id, path_or_state_dict, partial, mode, write_to, data_dir_path)
        return await self._publish(iter(requests), metadata=self._metadata)

    async def policy_status(self, model_id: str = ""):
        return await self._policy_status(MESSAGES["GetPolicyStatusRequest"](model_id=model_id),
                                         metadata=self._metadata)
