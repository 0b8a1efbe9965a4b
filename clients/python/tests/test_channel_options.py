"""The client's TLS arguments, shared by the sync and the asyncio client (no server needed:
channels connect lazily)."""
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from quasiroll_client.aio import AsyncQuasirollClient  # noqa: E402
from quasiroll_client.client import QuasirollClient  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")


class ChannelOptionsTest(unittest.TestCase):
    def test_half_a_client_certificate_is_refused_by_both_clients(self):
        for make in (QuasirollClient, AsyncQuasirollClient):
            with self.assertRaisesRegex(ValueError, "tls_cert and tls_key go together: got only tls_key"):
                make("127.0.0.1:1", tls_ca="ca.crt", tls_key="client.key")
            with self.assertRaisesRegex(ValueError, "tls_cert/tls_key need tls_ca"):
                make("127.0.0.1:1", tls_cert="client.crt", tls_key="client.key")

    @unittest.skipIf(shutil.which("openssl") is None, "openssl makes the development certificates")
    def test_both_clients_open_tls_channels_from_pem_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "tls")
            subprocess.run(["bash", os.path.join(ROOT, "deploy", "tls", "make-dev-ca.sh"), out],
                           check=True, capture_output=True)
            files = dict(tls_ca=os.path.join(out, "ca.crt"), tls_cert=os.path.join(out, "client.crt"),
                         tls_key=os.path.join(out, "client.key"))
            QuasirollClient("127.0.0.1:1", **files).close()

            async def open_and_close():
                await AsyncQuasirollClient("127.0.0.1:1", **files).close()
            asyncio.run(open_and_close())
            with self.assertRaises(FileNotFoundError):
                QuasirollClient("127.0.0.1:1", tls_ca=os.path.join(out, "missing.crt"))


if __name__ == "__main__":
    unittest.main()
