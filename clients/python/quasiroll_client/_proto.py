"""The quasiroll.v1 message classes, built at run time from a protobuf descriptor set.

Why not generated *_pb2.py files: Python gencode must match the protobuf runtime's version,
and the protoc that the Java build downloads is far newer than the Debian python3-protobuf
runtime. A descriptor set is version-independent: it is produced with any protoc
(`protoc --descriptor_set_out`), and the message classes are created from it here.

The descriptor set is looked up in this order: $QUASIROLL_PROTO_DESCRIPTOR, then
`quasiroll_v1.desc` next to this file; when neither exists it is generated from the repo's
proto/ with a protoc from $QUASIROLL_PROTOC, PATH or the Maven repository (~/.m2).
"""
import os
import subprocess

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from ._find_protoc import find_protoc

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.abspath(os.path.join(_HERE, "..", "..", ".."))
_PROTO_ROOT = os.path.join(_REPO, "proto", "src", "main", "proto")
_PROTO_FILE = "quasiroll/v1/quasiroll.proto"
_DEFAULT_DESC = os.path.join(_HERE, "quasiroll_v1.desc")


def _descriptor_path():
    env = os.environ.get("QUASIROLL_PROTO_DESCRIPTOR")
    if env:
        return env
    # In a checkout, regenerate when the .proto is newer than the cached descriptor set; an
    # installed package carries the one made at build time (setup.py) and no proto/.
    proto = os.path.join(_PROTO_ROOT, _PROTO_FILE)
    stale = os.path.exists(proto) and os.path.exists(_DEFAULT_DESC) and \
        os.path.getmtime(proto) > os.path.getmtime(_DEFAULT_DESC)
    if not os.path.exists(_DEFAULT_DESC) or stale:
        subprocess.run([find_protoc(), "-I", _PROTO_ROOT, "--include_imports",
                        "--descriptor_set_out=" + _DEFAULT_DESC, _PROTO_FILE], check=True)
    return _DEFAULT_DESC


def _load():
    with open(_descriptor_path(), "rb") as f:
        fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:
        pool.Add(fd)
    classes = {}
    for fd in fds.file:
        if fd.package != "quasiroll.v1":
            continue
        for m in fd.message_type:
            desc = pool.FindMessageTypeByName("quasiroll.v1." + m.name)
            if hasattr(message_factory, "GetMessageClass"):
                classes[m.name] = message_factory.GetMessageClass(desc)
            else:  # protobuf < 4.22
                classes[m.name] = message_factory.MessageFactory(pool).GetPrototype(desc)
    enums = {e.name: pool.FindEnumTypeByName("quasiroll.v1." + e.name)
             for fd in fds.file if fd.package == "quasiroll.v1" for e in fd.enum_type}
    return classes, enums


MESSAGES, ENUMS = _load()


def enum_name(enum, number):
    """The symbolic name of an enum value, e.g. enum_name("JobState", 3) == "JOB_STATE_SUCCEEDED"."""
    return ENUMS[enum].values_by_number[number].name
