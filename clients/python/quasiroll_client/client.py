"""A small client for a quasiroll coordinator: submit jobs, stream completed groups."""
import time
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence

import grpc

from ._proto import MESSAGES, enum_name

_SERVICE = "/quasiroll.v1.QuasirollService/"
_FINAL_STATES = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"}


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
        options = [("grpc.max_receive_message_length", 64 << 20)]
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together: got only %s"
                             % ("tls_cert" if tls_cert else "tls_key"))
        if tls_ca is None and tls_cert is not None:
            raise ValueError("tls_cert/tls_key need tls_ca (the CA that signed the coordinator's certificate)")
        if tls_ca is None:
            self._channel = grpc.insecure_channel(address, options=options)
        else:
            def read(path):
                with open(path, "rb") as f:
                    return f.read()
            creds = grpc.ssl_channel_credentials(
                root_certificates=read(tls_ca),
                private_key=read(tls_key) if tls_key else None,
                certificate_chain=read(tls_cert) if tls_cert else None)
            self._channel = grpc.secure_channel(address, creds, options=options)
        self._metadata = (("authorization", "Bearer " + token),) if token else ()
        m = MESSAGES
        self._submit = self._channel.unary_unary(
            _SERVICE + "SubmitJob", m["SubmitJobRequest"].SerializeToString, m["SubmitJobResponse"].FromString)
        self._stream = self._channel.unary_stream(
            _SERVICE + "StreamJob", m["StreamJobRequest"].SerializeToString, m["JobEvent"].FromString)
        self._status = self._channel.unary_unary(
            _SERVICE + "GetJobStatus", m["GetJobStatusRequest"].SerializeToString, m["JobStatus"].FromString)
        self._cancel = self._channel.unary_unary(
            _SERVICE + "CancelJob", m["CancelJobRequest"].SerializeToString, m["CancelJobResponse"].FromString)

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
                 name: str = "", server_jsonl: str = ""):
        """A JobSpec; prompts are dicts {"id", "prompt" (or "text"/"token_ids"), "metadata"}."""
        m = MESSAGES
        spec = m["JobSpec"](model=model, k=k, seed=seed, name=name)
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
        offset, failures = from_offset, 0
        while True:
            try:
                for event in self._stream(MESSAGES["StreamJobRequest"](job_id=job_id, from_offset=offset),
                                          metadata=self._metadata):
                    offset, failures = event.offset + 1, 0
                    yield event
                    if event.WhichOneof("event") == "status" and \
                            enum_name("JobState", event.status.state) in _FINAL_STATES:
                        return
                return
            except grpc.RpcError as e:
                failures += 1
                if e.code() != grpc.StatusCode.UNAVAILABLE or failures > retries:
                    raise
                time.sleep(0.5 * failures)

    def groups(self, job_id: str, raise_on_failure: bool = True) -> Iterator[CompletedGroup]:
        """Yields each prompt's CompletedGroup as soon as its k samples are in."""
        pending: Dict[str, List] = {}
        for event in self.events(job_id):
            kind = event.WhichOneof("event")
            if kind == "sample":
                pending.setdefault(event.sample.prompt_id, []).append(event.sample)
            elif kind == "group":
                samples = sorted(pending.pop(event.group.prompt_id, []), key=lambda s: s.index)
                yield CompletedGroup(event.group.prompt_id, samples, event.group)
            elif kind == "status" and raise_on_failure and \
                    enum_name("JobState", event.status.state) in ("JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
                raise JobFailed(event.status)

    def rollouts(self, model: str, prompts: Sequence[Dict], k: int, **options) -> Iterator[CompletedGroup]:
        """Submits a job and yields its completed groups: one call per RL step."""
        yield from self.groups(self.submit(self.job_spec(model, prompts, k, **options)))
