"""The client's safetensors writer: layout, round trip, and byte equality with the
`safetensors` package when that is installed. Java's reader is checked against this writer
by worker/src/test/.../PythonSafetensorsWriterTest. Run: python3 -m unittest discover tests"""
import json
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from quasiroll_client import safetensors_io  # noqa: E402

try:
    import numpy
except ImportError:  # pragma: no cover
    numpy = None


def bf16_bytes(values):
    """bfloat16 = the top 16 bits of the float32 (exact for these values)."""
    return b"".join(struct.pack("<I", struct.unpack("<I", struct.pack("<f", v))[0])[2:] for v in values)


class SafetensorsWriterTest(unittest.TestCase):
    def tensors(self):
        vals = [(i - 7) * 0.375 for i in range(15)]
        return {
            "b.weight": ("F32", [3, 5], struct.pack("<15f", *vals)),
            "a.bias": ("BF16", [15], bf16_bytes(vals)),
            "c.half": ("F16", [5, 3], struct.pack("<15e", *vals)),
        }

    def test_layout_is_the_reference_layout(self):
        data = safetensors_io.serialize(self.tensors(), metadata={"format": "pt"})
        n = struct.unpack("<Q", data[:8])[0]
        self.assertEqual(n % 8, 0)
        header = json.loads(data[8:8 + n])
        self.assertEqual(list(header)[0], "__metadata__")
        # largest dtype first, then by name; packed without gaps
        self.assertEqual([k for k in header if k != "__metadata__"], ["b.weight", "a.bias", "c.half"])
        self.assertEqual(header["b.weight"]["data_offsets"], [0, 60])
        self.assertEqual(header["a.bias"]["data_offsets"], [60, 90])
        self.assertEqual(header["c.half"]["data_offsets"], [90, 120])
        self.assertEqual(len(data), 8 + n + 120)

    def test_round_trip(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.safetensors")
            safetensors_io.save_file(self.tensors(), path)
            back = safetensors_io.load_bytes(path)
        for name, (dtype, shape, raw) in self.tensors().items():
            self.assertEqual(back[name], (dtype, shape, raw))

    def test_bad_tensors_are_refused_naming_the_problem(self):
        with self.assertRaisesRegex(ValueError, "needs 60 bytes, got 4"):
            safetensors_io.serialize({"x": ("F32", [3, 5], b"\0" * 4)})
        with self.assertRaisesRegex(ValueError, "'Q8' is not a safetensors dtype"):
            safetensors_io.serialize({"x": ("Q8", [1], b"\0")})

    @unittest.skipIf(numpy is None, "numpy not installed")
    def test_numpy_arrays(self):
        arr = numpy.arange(6, dtype=numpy.float32).reshape(2, 3)
        dtype, shape, raw = safetensors_io.tensor_bytes(arr)
        self.assertEqual((dtype, shape, raw), ("F32", [2, 3], arr.tobytes()))

    def test_torch_tensors_bf16(self):
        try:
            import torch
        except ImportError:
            self.skipTest("torch not installed")
        vals = [(i - 7) * 0.375 for i in range(15)]
        t = torch.tensor(vals, dtype=torch.bfloat16)
        self.assertEqual(safetensors_io.tensor_bytes(t), ("BF16", [15], bf16_bytes(vals)))

    def test_byte_identical_to_the_safetensors_package(self):
        try:
            from safetensors.numpy import save
        except ImportError:
            self.skipTest("the safetensors package is not installed")
        arrs = {"w": numpy.arange(12, dtype=numpy.float32).reshape(3, 4),
                "h": numpy.arange(5, dtype=numpy.float16)}
        self.assertEqual(safetensors_io.serialize(arrs), save(arrs))


if __name__ == "__main__":
    unittest.main()
