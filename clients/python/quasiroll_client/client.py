"""A small client for a quasiroll coordinator: submit jobs, stream completed groups."""
import itertools
import os
import time
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence

import grpc

from ._proto import MESSAGES, enum_name
from . import safetensors_io

_SERVICE = "/quasiroll.v1.QuasirollService/"


_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 << 20)]


def _channel_credentials(tls_ca, tls_cert, tls_key):
    """TLS credentials for the given PEM files, or None for a plaintext channel."""
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("tls_cert and tls_key go together: got only %s"
                         % ("tls_cert" if tls_cert else "tls_key"))
    if tls_ca is None and tls_cert is not None:
        raise ValueError("tls_cert/tls_key need tls_ca (the CA that signed the coordinator's certificate)")
    if tls_ca is None:
        return None

    def read(path):
        with open(path, "rb") as f:
            return f.read()
    return grpc.ssl_channel_credentials(
        root_certificates=read(tls_ca),
        private_key=read(tls_key) if tls_key else None,
        certificate_chain=read(tls_cert) if tls_cert else None)


def _bind_methods(client, channel):
    """The QuasirollService methods as callables on client (sync or grpc.aio channel alike)."""
    m = MESSAGES
    client._submit = channel.unary_unary(
        _SERVICE + "SubmitJob", m["SubmitJobRequest"].SerializeToString, m["SubmitJobResponse"].FromString)
    client._stream = channel.unary_stream(
        _SERVICE + "StreamJob", m["StreamJobRequest"].SerializeToString, m["JobEvent"].FromString)
    client._stream_batches = channel.unary_stream(
        _SERVICE + "StreamJobBatches", m["StreamJobRequest"].SerializeToString,
        m["JobEventBatch"].FromString)
    client._status = channel.unary_unary(
        _SERVICE + "GetJobStatus", m["GetJobStatusRequest"].SerializeToString, m["JobStatus"].FromString)
    client._cancel = channel.unary_unary(
        _SERVICE + "CancelJob", m["CancelJobRequest"].SerializeToString, m["CancelJobResponse"].FromString)
    client._publish = channel.stream_unary(
        _SERVICE + "PublishPolicy", m["PublishPolicyRequest"].SerializeToString,
        m["PublishPolicyResponse"].FromString)
    client._policy_status = channel.unary_unary(
        _SERVICE + "GetPolicyStatus", m["GetPolicyStatusRequest"].SerializeToString,
        m["PolicyStatus"].FromString)

_FINAL_STATES = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"}


def _is_final(event) -> bool:
    """Whether a JobEvent is the job's final status (the stream's last event)."""
    return event.WhichOneof("event") == "status" and \
        enum_name("JobState", event.status.state) in _FINAL_STATES


@dataclass
class CompletedGroup:
    """All k samples of one prompt (by sample index) and their GroupSummary.

    samples: quasiroll.v1.SampleResult messages (token_ids, text, raw_logprobs,
    processed_logprobs, reward, ...); summary: quasiroll.v1.GroupSummary (rewards, pass,
    zero_variance, grpo_advantages, rloo_advantages, distinct_answers).
    """
    prompt_id: str
    samples: list
    summary: object

    @property
    def policy_version(self) -> int:
        """The policy version every sample of the group came from."""
        return self.summary.policy_version


class GroupAssembler:
    """Turns a job's event stream into CompletedGroups.

    A group's samples are those of the GroupSummary's policy version; samples cut short by
    a PublishPolicy in abort mode (finish_reason ABORTED) that the job regenerated on a newer
    version are superseded (they were streamed, tagged with their version, as they came).
    """

    def __init__(self):
        self._pending: Dict[str, Dict] = {}

    def add(self, event):
        """Returns a CompletedGroup when `event` completes one, else None."""
        kind = event.WhichOneof("event")
        if kind == "sample":
            s = event.sample
            self._pending.setdefault(s.prompt_id, {})[(s.policy_version, s.index)] = s
        elif kind == "group":
            g = event.group
            got = self._pending.pop(g.prompt_id, {})
            samples = sorted((s for (v, _), s in got.items() if v == g.policy_version),
                             key=lambda s: s.index)
            return CompletedGroup(g.prompt_id, samples, g)
        return None


class JobFailed(RuntimeError):
    """The job ended FAILED or CANCELLED; .status holds its final JobStatus."""

    def __init__(self, status):
        super().__init__("job %s ended %s %s" % (status.job_id, enum_name("JobState", status.state), status.error))
        self.status = status


class QuasirollClient:
    """Talks to a coordinator's QuasirollService.

    token: your client token when the coordinator requires one (sent as
    "authorization: Bearer <token>").
    tls_ca: PEM file of the CA that signed the coordinator's certificate; setting it
    switches to TLS (required when the coordinator binds a non-loopback address).
    tls_cert, tls_key: PEM files of a client certificate (mutual TLS) instead of, or besides,
    a token; both or neither.
    """

    def __init__(self, address: str = "127.0.0.1:7470", token: Optional[str] = None,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None,
                 tls_key: Optional[str] = None):
        credentials = _channel_credentials(tls_ca, tls_cert, tls_key)
        if credentials is None:
            self._channel = grpc.insecure_channel(address, options=_CHANNEL_OPTIONS)
        else:
            self._channel = grpc.secure_channel(address, credentials, options=_CHANNEL_OPTIONS)
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        self._batched = True  # StreamJobBatches until the coordinator says UNIMPLEMENTED
        _bind_methods(self, self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def job_spec(model: str, prompts: Sequence[Dict], k: int, sampler: str = "iid",
                 sampler_options: Optional[Dict[str, str]] = None, temperature: Optional[float] = None,
                 top_k: int = 0, top_p: Optional[float] = None, min_p: float = 0.0,
                 max_new_tokens: int = 256, stop: Sequence[str] = (), seed: int = 0,
                 name: str = "", server_jsonl: str = "", policy_version: Optional[int] = None,
                 max_staleness: Optional[int] = None, keep_partials: bool = False,
                 zero_variance: str = "keep", grow_max_k: int = 0, target_groups: int = 0):
        """A JobSpec; prompts are dicts {"id", "prompt" (or "text"/"token_ids"), "metadata"}.

        policy_version: an exact policy version (default: the latest when each group starts);
        max_staleness: instead, any version at most this many behind the newest;
        zero_variance: "keep", "drop" (replace all-equal groups with reserve prompts until
        target_groups are delivered) or "grow" (extend them to 2k, 4k, ... <= grow_max_k).
        """
        m = MESSAGES
        spec = m["JobSpec"](model=model, k=k, seed=seed, name=name)
        if policy_version is not None:
            spec.policy_version = policy_version
        if max_staleness is not None:
            spec.max_staleness = max_staleness
        spec.keep_partials = keep_partials
        modes = {"keep": 0, "drop": 1, "grow": 2}
        if zero_variance not in modes:
            raise ValueError("zero_variance %r: expected one of %s" % (zero_variance, ", ".join(modes)))
        spec.zero_variance = modes[zero_variance]
        spec.grow_max_k = grow_max_k
        spec.target_groups = target_groups
        for p in prompts:
            msg = spec.prompts.add(id=p["id"], text=p.get("prompt", p.get("text", "")))
            msg.token_ids.extend(p.get("token_ids", []))
            for key, value in p.get("metadata", {}).items():
                msg.metadata[key] = str(value)
        spec.sampler.kind = sampler
        for key, value in (sampler_options or {}).items():
            spec.sampler.options[key] = value
        if temperature is not None:
            spec.decode.temperature = temperature
        if top_p is not None:
            spec.decode.top_p = top_p
        spec.decode.top_k = top_k
        spec.decode.min_p = min_p
        spec.decode.max_new_tokens = max_new_tokens
        spec.decode.stop_strings.extend(stop)
        spec.sinks.jsonl_path = server_jsonl
        return spec

    def submit(self, spec) -> str:
        """Submits a JobSpec; returns the job id. Bad specs raise grpc.RpcError INVALID_ARGUMENT."""
        return self._submit(MESSAGES["SubmitJobRequest"](spec=spec), metadata=self._metadata).job_id

    def status(self, job_id: str):
        return self._status(MESSAGES["GetJobStatusRequest"](job_id=job_id), metadata=self._metadata)

    def cancel(self, job_id: str):
        return self._cancel(MESSAGES["CancelJobRequest"](job_id=job_id), metadata=self._metadata).status

    def events(self, job_id: str, from_offset: int = 0, retries: int = 10) -> Iterator[object]:
        """Every JobEvent from from_offset on, resuming after dropped connections."""
        for batch in self.event_batches(job_id, from_offset, retries):
            yield from batch

    def event_batches(self, job_id: str, from_offset: int = 0, retries: int = 10) -> Iterator[list]:
        """Every JobEvent from from_offset on, as lists of consecutive events (one gRPC message
        each: StreamJobBatches, far less per-event overhead than StreamJob); resumes after
        dropped connections. A coordinator without StreamJobBatches is read with StreamJob."""
        offset, failures = from_offset, 0
        while True:
            try:
                for events in self._batches_from(job_id, offset):
                    if not events:
                        continue
                    offset, failures = events[-1].offset + 1, 0
                    yield events
                    if _is_final(events[-1]):
                        return
                return
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.UNIMPLEMENTED and self._batched:
                    self._batched = False  # an older coordinator: one event per message
                    continue
                failures += 1
                if e.code() != grpc.StatusCode.UNAVAILABLE or failures > retries:
                    raise
                time.sleep(0.5 * failures)

    def _batches_from(self, job_id: str, offset: int) -> Iterator[list]:
        request = MESSAGES["StreamJobRequest"](job_id=job_id, from_offset=offset)
        if self._batched:
            for batch in self._stream_batches(request, metadata=self._metadata):
                yield list(batch.events)
        else:
            for event in self._stream(request, metadata=self._metadata):
                yield [event]

    def groups(self, job_id: str, raise_on_failure: bool = True,
               include_dropped: bool = False) -> Iterator[CompletedGroup]:
        """Yields each prompt's CompletedGroup as soon as its samples are in (groups that
        zero_variance="drop" replaced only with include_dropped)."""
        assembler = GroupAssembler()
        for event in self.events(job_id):
            group = assembler.add(event)
            if group is not None:
                if include_dropped or not group.summary.dropped:
                    yield group
            elif event.WhichOneof("event") == "status" and raise_on_failure and \
                    enum_name("JobState", event.status.state) in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
                raise JobFailed(event.status)

    def publish_policy(self, model_id: str, path_or_state_dict, partial: bool = False,
                       mode: str = "wait", write_to: Optional[str] = None,
                       data_dir_path: Optional[str] = None):
        """Publishes new weights for `model_id`; returns the PublishPolicyResponse (its
        policy_version is the new version) once every worker serving the model has them.

        path_or_state_dict: a str = a directory of .safetensors files relative to the
        coordinator's data directory; or a dict name -> tensor (torch, numpy, or (dtype,
        shape, bytes)) with HF weight names. A dict is streamed to the coordinator over gRPC
        (no shared filesystem needed) unless write_to is given: then it is written there as
        model.safetensors (with the `safetensors` package when installed, else this
        package's writer) and published by path, data_dir_path being that directory as the
        coordinator's data directory sees it (relative).
        partial: only the given tensors change; mode: "wait" (running shards finish on the
        old version) or "abort" (they stop at the next step; see JobSpec.keep_partials).
        Bad sources raise grpc.RpcError INVALID_ARGUMENT naming the tensor or path.
        """
        return self._publish(iter(publish_requests(model_id, path_or_state_dict, partial, mode,
                                                   write_to, data_dir_path)),
                             metadata=self._metadata)

    def policy_status(self, model_id: str = ""):
        """PolicyStatus: each model's latest version and which worker serves which version."""
        return self._policy_status(MESSAGES["GetPolicyStatusRequest"](model_id=model_id),
                                   metadata=self._metadata)

    def rollouts(self, model: str, prompts: Sequence[Dict], k: int, **options) -> Iterator[CompletedGroup]:
        """Submits a job and yields its completed groups: one call per RL step."""
        yield from self.groups(self.submit(self.job_spec(model, prompts, k, **options)))


CHUNK_BYTES = 4 << 20
_MODES = {"wait": 0, "abort": 1}


def publish_requests(model_id, path_or_state_dict, partial=False, mode="wait", write_to=None,
                     data_dir_path=None, chunk_bytes=CHUNK_BYTES):
    """The PublishPolicyRequest messages of one publish (shared by the sync and async clients)."""
    if mode not in _MODES:
        raise ValueError("mode %r: expected wait or abort" % (mode,))
    m = MESSAGES
    head = m["PublishPolicyRequest"](model_id=model_id, partial=partial, mode=_MODES[mode])
    if isinstance(path_or_state_dict, (str, os.PathLike)):
        head.source_path = os.fspath(path_or_state_dict)
        return [head]
    tensors = dict(path_or_state_dict)
    if write_to is not None:
        if data_dir_path is None:
            raise ValueError("write_to needs data_dir_path: the same directory relative to the "
                             "coordinator's data directory")
        os.makedirs(write_to, exist_ok=True)
        safetensors_io.save_file(tensors, os.path.join(write_to, "model.safetensors"))
        head.source_path = data_dir_path
        return [head]
    return itertools.chain([head], _chunks(tensors, chunk_bytes))


def _chunks(tensors, chunk_bytes):
    """TensorChunk requests, one tensor at a time (only one tensor's bytes in memory)."""
    m = MESSAGES
    for name, value in tensors.items():
        dtype, shape, data = safetensors_io.tensor_bytes(value)
        for offset in range(0, max(len(data), 1), chunk_bytes):
            chunk = m["TensorChunk"](name=name, dtype=dtype, shape=shape, offset=offset,
                                     data=data[offset:offset + chunk_bytes])
            yield m["PublishPolicyRequest"](chunk=chunk)
