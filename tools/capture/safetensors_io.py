"""safetensors writing and reading with the standard library and numpy only (no torch).

The format (https://github.com/huggingface/safetensors), as src/model/loader/safetensors-format.ts
parses it: 8 bytes little-endian unsigned header length N, N bytes of UTF-8 JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the data;
offsets count from the first byte after the header. The reference writer pads the JSON with spaces
to a multiple of 8 bytes so the data section is 8-byte aligned; the spec allows trailing spaces.
The Rust reader also wants the tensors to tile the data section exactly (no gaps, no overlap) and
the header to start with "{"; the layouts made here satisfy both.

`StreamingWriter` writes a file whose tensors are too large to hold in memory: the layout and the
header length are fixed up front (all shapes are known), the data is written in pieces with
os.pwrite (whole tensors, or row blocks [a, start:start+T, b] of a 3-D tensor), and the header is
written last. Until `finish()` the file is `<out>.partial` with a zero header length, so a crash
never leaves a file that looks complete.
"""
from __future__ import annotations

import errno
import json
import os
import struct
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

# Item sizes of every safetensors dtype (as DTYPE_BYTES in src/model/loader/dtypes.ts).
DTYPE_BYTES: Dict[str, int] = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}
# Little-endian numpy dtypes for the ones this tool reads or writes (BF16 has no numpy dtype).
NUMPY_DTYPES: Dict[str, str] = {
    "BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
    "I32": "<i4", "U32": "<u4", "F32": "<f4", "I64": "<i8", "U64": "<u8", "F64": "<f8",
}
# src/model/loader/safetensors-format.ts MAX_HEADER_BYTES (the reference reader's limit too).
MAX_HEADER_BYTES = 100_000_000


class SafetensorsError(ValueError):
    pass


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: Tuple[int, ...]

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def nbytes(self) -> int:
        return self.numel * DTYPE_BYTES[self.dtype]


@dataclass(frozen=True)
class Entry:
    spec: TensorSpec
    begin: int  # relative to the data section
    end: int


def _check_spec(t: TensorSpec) -> None:
    if not isinstance(t.name, str) or not t.name or t.name == "__metadata__":
        raise SafetensorsError(f"tensor name {t.name!r} is empty or reserved")
    if t.dtype not in DTYPE_BYTES:
        raise SafetensorsError(f"tensor {t.name}: unknown dtype {t.dtype!r}")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in t.shape):
        raise SafetensorsError(f"tensor {t.name}: shape {list(t.shape)} must be non-negative integers")


def layout(specs: Sequence[TensorSpec]) -> List[Entry]:
    """Contiguous data offsets in the given order."""
    out: List[Entry] = []
    seen = set()
    at = 0
    for t in specs:
        _check_spec(t)
        if t.name in seen:
            raise SafetensorsError(f"tensor name {t.name} is repeated")
        seen.add(t.name)
        out.append(Entry(t, at, at + t.nbytes))
        at += t.nbytes
    return out


def header_json(entries: Sequence[Entry], metadata: Optional[Dict[str, str]]) -> bytes:
    """The header JSON (UTF-8, unpadded): __metadata__ first, then the tensors in layout order."""
    obj: Dict[str, object] = {}
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise SafetensorsError(f"__metadata__ must map strings to strings; {k!r}: {v!r} is not")
        obj["__metadata__"] = dict(metadata)
    for e in entries:
        obj[e.spec.name] = {"dtype": e.spec.dtype, "shape": list(e.spec.shape), "data_offsets": [e.begin, e.end]}
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def padded(json_bytes: bytes, length: Optional[int] = None, reserve: int = 0) -> bytes:
    """json_bytes padded with spaces to `length` (which must be a multiple of 8 and long enough), or
    to the next multiple of 8 after len + reserve."""
    if length is None:
        n = len(json_bytes) + reserve
        length = n + (-n) % 8
    if length % 8:
        raise SafetensorsError(f"header length {length} is not a multiple of 8")
    if len(json_bytes) > length:
        raise SafetensorsError(f"header of {len(json_bytes)} bytes does not fit in {length}")
    if length > MAX_HEADER_BYTES:
        raise SafetensorsError(f"header of {length} bytes is over the {MAX_HEADER_BYTES}-byte limit of safetensors readers")
    return json_bytes + b" " * (length - len(json_bytes))


def file_size(specs: Sequence[TensorSpec], header_len: int) -> int:
    return 8 + header_len + sum(t.nbytes for t in specs)


def encode(tensors: Sequence[Tuple[str, str, np.ndarray]], metadata: Optional[Dict[str, str]] = None) -> bytes:
    """A whole safetensors file in memory, from (name, dtype, array) triples (the tests use it)."""
    specs = [TensorSpec(n, d, tuple(int(s) for s in a.shape)) for n, d, a in tensors]
    entries = layout(specs)
    head = padded(header_json(entries, metadata))
    parts = [struct.pack("<Q", len(head)), head]
    for (n, d, a), e in zip(tensors, entries):
        b = np.ascontiguousarray(a, dtype=NUMPY_DTYPES[d]).tobytes()
        if len(b) != e.end - e.begin:
            raise SafetensorsError(f"tensor {n}: {len(b)} bytes for {e.end - e.begin}")
        parts.append(b)
    return b"".join(parts)


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while len(data):
        n = os.pwrite(fd, data, offset)
        if n <= 0:
            raise OSError(f"pwrite wrote {n} bytes")
        data = data[n:]
        offset += n


class StreamingWriter:
    """Writes `specs` to `path` piece by piece; see the module docstring.

    reserve: spare header bytes for metadata added in finish() (the header length is fixed first).
    preallocate: reserve the disk blocks with posix_fallocate so a full disk fails here, cleanly,
    rather than halfway through the run.
    """

    def __init__(self, path: str, specs: Sequence[TensorSpec], metadata: Dict[str, str],
                 reserve: int = 4096, preallocate: bool = True):
        self.path = path
        self.partial = path + ".partial"
        self.entries = {e.spec.name: e for e in layout(specs)}
        self.order = [t.name for t in specs]
        self.metadata = dict(metadata)
        self.header_len = len(padded(header_json(list(self.entries.values()), self.metadata), reserve=reserve))
        self.data_start = 8 + self.header_len
        self.size = self.data_start + sum(e.spec.nbytes for e in self.entries.values())
        # What has been written: whole tensors, and for row writes a bool per row of axis 1.
        self._whole: Dict[str, bool] = {}
        self._rows: Dict[str, np.ndarray] = {}
        self._fd: Optional[int] = os.open(self.partial, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            if preallocate and hasattr(os, "posix_fallocate"):
                try:
                    os.posix_fallocate(self._fd, 0, self.size)
                except OSError as e:
                    if e.errno == errno.ENOSPC:
                        raise OSError(e.errno, f"no room for {self.size} bytes at {self.partial}: {e.strerror}") from e
                    os.ftruncate(self._fd, self.size)  # filesystem without fallocate
            else:
                os.ftruncate(self._fd, self.size)
            _pwrite_all(self._fd, memoryview(b"\0" * 8), 0)  # zero length until finish()
        except BaseException:
            self.abort()
            raise

    def _entry(self, name: str) -> Entry:
        e = self.entries.get(name)
        if e is None:
            raise SafetensorsError(f"no tensor {name} in this file's layout")
        return e

    def write(self, name: str, array: np.ndarray) -> None:
        """The whole tensor."""
        e = self._entry(name)
        a = np.ascontiguousarray(array, dtype=NUMPY_DTYPES[e.spec.dtype])
        if tuple(a.shape) != e.spec.shape:
            raise SafetensorsError(f"tensor {name}: array shape {list(a.shape)} is not {list(e.spec.shape)}")
        _pwrite_all(self._fd, memoryview(a).cast("B"), self.data_start + e.begin)
        self._whole[name] = True

    def write_rows(self, name: str, start: int, array: np.ndarray) -> None:
        """Rows start .. start+T of axis 1 of a 3-D tensor [A, S, B] from an array [A, T, B]."""
        e = self._entry(name)
        shape = e.spec.shape
        if len(shape) != 3:
            raise SafetensorsError(f"tensor {name}: write_rows needs a 3-D tensor, it is {list(shape)}")
        A, S, B = shape
        a = np.ascontiguousarray(array, dtype=NUMPY_DTYPES[e.spec.dtype])
        if a.ndim != 3 or a.shape[0] != A or a.shape[2] != B:
            raise SafetensorsError(f"tensor {name} [{A}, {S}, {B}]: rows of shape {list(a.shape)} do not fit")
        T = a.shape[1]
        if start < 0 or start + T > S:
            raise SafetensorsError(f"tensor {name}: rows {start}..{start + T} are outside 0..{S}")
        item = DTYPE_BYTES[e.spec.dtype]
        for i in range(A):
            off = self.data_start + e.begin + (i * S + start) * B * item
            _pwrite_all(self._fd, memoryview(a[i]).cast("B"), off)
        rows = self._rows.setdefault(name, np.zeros(S, dtype=bool))
        rows[start:start + T] = True

    def missing(self) -> List[str]:
        """Tensors (or row ranges) not written yet."""
        out = []
        for name in self.order:
            if self._whole.get(name):
                continue
            rows = self._rows.get(name)
            if rows is None:
                out.append(name)
            elif not rows.all():
                first = int(np.argmin(rows))
                out.append(f"{name} (rows from {first}, {int((~rows).sum())} rows in all)")
        return out

    def finish(self, extra_metadata: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """Writes the header (with extra_metadata when it fits in the reserved bytes), renames the
        partial file to `path`. Returns the metadata written."""
        missing = self.missing()
        if missing:
            raise SafetensorsError(f"{self.partial}: not every tensor was written: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
        meta = dict(self.metadata)
        entries = [self.entries[n] for n in self.order]
        if extra_metadata:
            trial = dict(meta, **extra_metadata)
            if len(header_json(entries, trial)) <= self.header_len:
                meta = trial
            else:
                meta["metadata_note"] = "some final fields did not fit in the reserved header bytes"
                if len(header_json(entries, meta)) > self.header_len:
                    meta = dict(self.metadata)
        head = padded(header_json(entries, meta), length=self.header_len)
        _pwrite_all(self._fd, memoryview(head), 8)
        os.fsync(self._fd)
        _pwrite_all(self._fd, memoryview(struct.pack("<Q", self.header_len)), 0)
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        os.replace(self.partial, self.path)
        return meta

    def abort(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            finally:
                self._fd = None
        try:
            os.unlink(self.partial)
        except FileNotFoundError:
            pass


# ---------------------------------------------------------------------------------------------
# Reading (checks as src/model/loader/safetensors-format.ts parseHeader does)


@dataclass
class Header:
    data_start: int
    entries: Dict[str, Entry]
    metadata: Dict[str, str]
    header_len: int


def parse_header_bytes(json_bytes: bytes, file: str = "the file", data_bytes: Optional[int] = None) -> Header:
    try:
        obj = json.loads(json_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{file}: the safetensors header is not valid UTF-8 JSON ({e})")
    if not isinstance(obj, dict):
        raise SafetensorsError(f"{file}: the safetensors header must be a JSON object")
    entries: Dict[str, Entry] = {}
    metadata: Dict[str, str] = {}
    for name, v in obj.items():
        if name == "__metadata__":
            if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
                raise SafetensorsError(f"{file}: __metadata__ must map strings to strings")
            metadata = v
            continue
        if not isinstance(v, dict):
            raise SafetensorsError(f"{file}: tensor {name}: header entry is not an object")
        dtype, shape, offs = v.get("dtype"), v.get("shape"), v.get("data_offsets")
        if dtype not in DTYPE_BYTES:
            raise SafetensorsError(f"{file}: tensor {name}: unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            raise SafetensorsError(f"{file}: tensor {name}: bad shape {shape!r}")
        if not isinstance(offs, list) or len(offs) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in offs):
            raise SafetensorsError(f"{file}: tensor {name}: bad data_offsets {offs!r}")
        spec = TensorSpec(name, dtype, tuple(shape))
        b, e = offs
        if e < b or e - b != spec.nbytes:
            raise SafetensorsError(f"{file}: tensor {name}: data_offsets [{b}, {e}] do not hold shape {shape} of {dtype}")
        if data_bytes is not None and e > data_bytes:
            raise SafetensorsError(f"{file}: tensor {name}: data_offsets [{b}, {e}] run past the data ({data_bytes} bytes)")
        entries[name] = Entry(spec, b, e)
    srt = sorted(entries.values(), key=lambda x: (x.begin, x.end))
    for p, c in zip(srt, srt[1:]):
        if c.begin < p.end:
            raise SafetensorsError(f"{file}: tensors {p.spec.name} and {c.spec.name} overlap")
    return Header(8 + len(json_bytes), entries, metadata, len(json_bytes))


def read_header(path: str) -> Header:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        first = f.read(8)
        if len(first) < 8:
            raise SafetensorsError(f"{path}: only {len(first)} bytes, too short for safetensors")
        (n,) = struct.unpack("<Q", first)
        if n == 0:
            raise SafetensorsError(f"{path}: header length 0 (an unfinished capture?)")
        if n > MAX_HEADER_BYTES or 8 + n > size:
            raise SafetensorsError(f"{path}: header length {n} does not fit the file ({size} bytes)")
        return parse_header_bytes(f.read(n), path, size - 8 - n)


def check_tiles(h: Header, file_size_bytes: int, file: str = "the file") -> None:
    """The Rust reader's extra rule: the tensors tile the data section exactly."""
    at = 0
    for e in sorted(h.entries.values(), key=lambda x: (x.begin, x.end)):
        if e.begin != at:
            raise SafetensorsError(f"{file}: tensor {e.spec.name} starts at {e.begin}, expected {at} (gap or overlap)")
        at = e.end
    if h.data_start + at != file_size_bytes:
        raise SafetensorsError(f"{file}: data ends at {h.data_start + at} but the file has {file_size_bytes} bytes")


def load(path: str, name: str, header: Optional[Header] = None, mmap: bool = True) -> np.ndarray:
    """One tensor as a numpy array (read-only memmap by default)."""
    h = header or read_header(path)
    e = h.entries.get(name)
    if e is None:
        raise SafetensorsError(f"{path}: no tensor {name} (has {', '.join(list(h.entries)[:12])})")
    dt = NUMPY_DTYPES.get(e.spec.dtype)
    if dt is None:
        raise SafetensorsError(f"{path}: tensor {name} has dtype {e.spec.dtype}, which numpy cannot hold")
    if e.spec.numel == 0:
        return np.zeros(e.spec.shape, dtype=dt)
    if mmap:
        return np.memmap(path, dtype=dt, mode="r", offset=h.data_start + e.begin, shape=e.spec.shape)
    with open(path, "rb") as f:
        f.seek(h.data_start + e.begin)
        return np.frombuffer(f.read(e.end - e.begin), dtype=dt).reshape(e.spec.shape)


def names(h: Header) -> Iterable[str]:
    return (e.spec.name for e in sorted(h.entries.values(), key=lambda x: x.begin))
