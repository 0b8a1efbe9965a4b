"""Reading and writing safetensors files without the `safetensors` package.

Layout (https://github.com/huggingface/safetensors, "Format"): an unsigned 64-bit
little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name to
{"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the first byte after
the header) plus an optional "__metadata__" object of strings, then the tensor bytes,
little-endian, row-major. This writer lays files out as the reference implementation
does: tensors ordered by dtype size (largest first) then name, packed without gaps, and the
header padded with spaces to a multiple of 8 bytes so every tensor is 8-byte aligned.

Tensors may be given as torch tensors, numpy arrays, or (dtype, shape, bytes) triples with
dtype one of F32, F16, BF16 (the dtypes quasiroll's worker reads), or others the format
names (F64, I64, I32, I16, I8, U8, BOOL) for completeness.
"""
import json
import struct

DTYPE_SIZES = {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "F16": 2, "BF16": 2, "I16": 2,
               "I8": 1, "U8": 1, "BOOL": 1}
_NUMPY_DTYPES = {"float64": "F64", "int64": "I64", "float32": "F32", "int32": "I32",
                 "float16": "F16", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def tensor_bytes(value):
    """(dtype, shape, bytes) of a torch tensor, numpy array or (dtype, shape, bytes) triple."""
    if isinstance(value, tuple) and len(value) == 3:
        dtype, shape, data = value
        data = bytes(data)
        shape = [int(d) for d in shape]
    elif type(value).__module__.startswith("torch"):
        import torch
        t = value.detach().to("cpu").contiguous()
        shape = list(t.shape)
        if t.dtype == torch.bfloat16:
            dtype, data = "BF16", t.view(torch.int16).numpy().tobytes()
        else:
            arr = t.numpy()
            dtype, data = _numpy_dtype(arr), arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    elif hasattr(value, "dtype") and hasattr(value, "tobytes"):
        shape = list(value.shape)
        dtype = _numpy_dtype(value)
        import numpy
        data = numpy.ascontiguousarray(value).astype(value.dtype.newbyteorder("<"), copy=False).tobytes()
    else:
        raise TypeError("tensor of type %s: expected a torch tensor, a numpy array or a "
                        "(dtype, shape, bytes) triple" % type(value).__name__)
    if dtype not in DTYPE_SIZES:
        raise ValueError("dtype %r is not a safetensors dtype (%s)" % (dtype, ", ".join(DTYPE_SIZES)))
    n = 1
    for d in shape:
        n *= d
    if len(data) != n * DTYPE_SIZES[dtype]:
        raise ValueError("tensor of shape %s and dtype %s needs %d bytes, got %d"
                         % (shape, dtype, n * DTYPE_SIZES[dtype], len(data)))
    return dtype, shape, data


def _numpy_dtype(arr):
    name = str(arr.dtype)
    if name not in _NUMPY_DTYPES:
        raise ValueError("numpy dtype %s has no safetensors name (accepted: %s)"
                         % (name, ", ".join(_NUMPY_DTYPES)))
    return _NUMPY_DTYPES[name]


def serialize(tensors, metadata=None):
    """The bytes of a safetensors file holding `tensors` (a dict name -> tensor)."""
    items = [(name, tensor_bytes(v)) for name, v in tensors.items()]
    items.sort(key=lambda it: (-DTYPE_SIZES[it[1][0]], it[0]))
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for name, (dtype, shape, data) in items:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return b"".join([struct.pack("<Q", len(raw)), raw] + [it[1][2] for it in items])


def save_file(tensors, path, metadata=None):
    """Writes `tensors` to `path`: with the `safetensors` package when installed, else here."""
    try:
        import safetensors.numpy  # noqa: F401
        have_package = True
    except ImportError:
        have_package = False
    if have_package and all(type(v).__module__.startswith("torch") for v in tensors.values()):
        from safetensors.torch import save_file as st_save
        st_save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, path, metadata=metadata)
        return
    data = serialize(tensors, metadata)
    with open(path, "wb") as f:
        f.write(data)


def read_header(path):
    """(header dict without __metadata__, data start offset) of a safetensors file."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
    header.pop("__metadata__", None)
    return header, 8 + n


def load_bytes(path):
    """{name: (dtype, shape, bytes)} of every tensor in a safetensors file."""
    header, start = read_header(path)
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            b, e = info["data_offsets"]
            f.seek(start + b)
            out[name] = (info["dtype"], info["shape"], f.read(e - b))
    return out
