"""Python client for quasiroll: submit rollout jobs to a coordinator, stream completed groups,
publish new policy weights."""
from ._proto import MESSAGES, enum_name
from .aio import AsyncQuasirollClient
from .client import CompletedGroup, GroupAssembler, JobFailed, QuasirollClient
from . import safetensors_io

__all__ = ["QuasirollClient", "AsyncQuasirollClient", "CompletedGroup", "GroupAssembler",
           "JobFailed", "MESSAGES", "enum_name", "safetensors_io"]
