"""Both clients read a job's events in batches (StreamJobBatches), fall back to one event per
message (StreamJob) on a coordinator that lacks batches, and resume at the right offset after a
dropped stream. Against a small in-process gRPC server that plays the coordinator."""
import asyncio
import os
import sys
import unittest
from concurrent import futures

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from quasiroll_client import AsyncQuasirollClient, QuasirollClient  # noqa: E402
from quasiroll_client._proto import MESSAGES  # noqa: E402

EVENTS = 23  # 22 samples, then the final status


def event(offset):
    e = MESSAGES["JobEvent"](offset=offset)
    if offset == EVENTS - 1:
        e.status.job_id = "job-1"
        e.status.state = 3  # JOB_STATE_SUCCEEDED
    else:
        e.sample.prompt_id = "p"
        e.sample.index = offset
    return e


class FakeCoordinator:
    """Serves StreamJob, and StreamJobBatches (5 events per message) unless `batches` is False.
    The first stream of each kind fails with UNAVAILABLE after `drop_after` events."""

    def __init__(self, batches, drop_after):
        self.batches = batches
        self.drop_after = drop_after
        self.requests = []  # (method, from_offset)

    def _events(self, method, request, context):
        self.requests.append((method, request.from_offset))
        first = len(self.requests) == 1
        for offset in range(request.from_offset, EVENTS):
            if first and offset == request.from_offset + self.drop_after:
                context.abort(grpc.StatusCode.UNAVAILABLE, "dropped on purpose")
            yield event(offset)

    def stream_job(self, request, context):
        yield from self._events("StreamJob", request, context)

    def stream_job_batches(self, request, context):
        batch = MESSAGES["JobEventBatch"]()
        for e in self._events("StreamJobBatches", request, context):
            batch.events.append(e)
            if len(batch.events) == 5:
                yield batch
                batch = MESSAGES["JobEventBatch"]()
        if batch.events:
            yield batch

    def start(self):
        request = MESSAGES["StreamJobRequest"].FromString
        handlers = {"StreamJob": grpc.unary_stream_rpc_method_handler(
            self.stream_job, request_deserializer=request,
            response_serializer=MESSAGES["JobEvent"].SerializeToString)}
        if self.batches:
            handlers["StreamJobBatches"] = grpc.unary_stream_rpc_method_handler(
                self.stream_job_batches, request_deserializer=request,
                response_serializer=MESSAGES["JobEventBatch"].SerializeToString)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("quasiroll.v1.QuasirollService", handlers),))
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        return "127.0.0.1:%d" % port


def offsets_sync(address):
    with QuasirollClient(address) as client:
        return [e.offset for e in client.events("job-1")]


async def offsets_async(address):
    async with AsyncQuasirollClient(address) as client:
        return [e.offset async for e in client.events("job-1")]


class EventBatchesTest(unittest.TestCase):
    def check(self, batches, read):
        fake = FakeCoordinator(batches, drop_after=7)
        address = fake.start()
        try:
            self.assertEqual(list(range(EVENTS)), read(address))
        finally:
            fake.server.stop(None)
        return fake.requests

    def test_batches_resume_after_the_last_event_of_the_last_whole_batch(self):
        for read in (offsets_sync, lambda a: asyncio.run(offsets_async(a))):
            # the first stream delivered one batch of 5 before failing inside the second
            self.assertEqual([("StreamJobBatches", 0), ("StreamJobBatches", 5)],
                             self.check(True, read))

    def test_a_coordinator_without_batches_is_read_one_event_at_a_time(self):
        for read in (offsets_sync, lambda a: asyncio.run(offsets_async(a))):
            # UNIMPLEMENTED is not a failure: StreamJob from the same offset, then a resume
            self.assertEqual([("StreamJob", 0), ("StreamJob", 7)], self.check(False, read))


if __name__ == "__main__":
    unittest.main()
