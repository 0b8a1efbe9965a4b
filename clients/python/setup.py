"""Builds the protobuf descriptor set into the package (see quasiroll_client/_proto.py).

The message classes are made at import time from quasiroll_v1.desc; an installed package
has no proto/ to make it from, so it is made here, from ../../proto, with the protoc that
_proto.find_protoc finds (offline: $QUASIROLL_PROTOC, PATH, or the Maven repository).
"""
import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "..", "proto", "src", "main", "proto")
DESC = os.path.join(HERE, "quasiroll_client", "quasiroll_v1.desc")


class BuildWithDescriptor(build_py):
    def run(self):
        proto = os.path.join(PROTO_ROOT, "quasiroll", "v1", "quasiroll.proto")
        if os.path.exists(proto):
            sys.path.insert(0, HERE)
            # the finder only; importing the package itself would need the descriptor
            import importlib.util
            spec = importlib.util.spec_from_file_location(
                "_qr_find_protoc", os.path.join(HERE, "quasiroll_client", "_find_protoc.py"))
            finder = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(finder)
            subprocess.run([finder.find_protoc(), "-I", PROTO_ROOT, "--include_imports",
                            "--descriptor_set_out=" + DESC, "quasiroll/v1/quasiroll.proto"], check=True)
        elif not os.path.exists(DESC):
            raise RuntimeError("neither %s nor a prebuilt %s: build from a quasiroll checkout" % (proto, DESC))
        super().run()


setup(cmdclass={"build_py": BuildWithDescriptor})
