"""Python client for quasiroll: submit rollout jobs to a coordinator, stream completed groups."""
from ._proto import MESSAGES, enum_name
from .client import CompletedGroup, JobFailed, QuasirollClient

__all__ = ["QuasirollClient", "CompletedGroup", "JobFailed", "MESSAGES", "enum_name"]
