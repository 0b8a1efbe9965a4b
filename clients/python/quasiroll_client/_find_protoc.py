"""Finds a protoc executable (no imports beyond the standard library: setup.py uses it)."""
import glob
import os
import shutil


def find_protoc():
    for candidate in (os.environ.get("QUASIROLL_PROTOC"), shutil.which("protoc")):
        if candidate:
            return candidate
    found = sorted(glob.glob(os.path.expanduser(
        "~/.m2/repository/com/google/protobuf/protoc/*/protoc-*-linux-x86_64.exe")))
    if found:
        os.chmod(found[-1], 0o755)
        return found[-1]
    raise RuntimeError(
        "no protobuf descriptor set and no protoc to make one: set QUASIROLL_PROTOC, install "
        "protoc, or build the Java project once (mvn -pl proto compile downloads protoc)")
