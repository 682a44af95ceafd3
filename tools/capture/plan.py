"""The parts of a capture that need no torch: layer lists, chunks, the file's tensors and size,
the size and disk checks, token-id files, the text's metadata. Unit-tested in test_plan.py."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from safetensors_io import TensorSpec


class CaptureError(Exception):
    """Bad input or a refused request: the CLI prints the message and exits with status 2."""


# ---------------------------------------------------------------------------------------------
# --layers


def parse_layers(spec: str, num_layers: int) -> Optional[List[int]]:
    """"all" -> None (every attention layer the model has); "0,3,5-7" -> [0, 3, 5, 6, 7].
    Negative numbers count from the end ("-1" is the last layer); a range is "a-b" with a <= b."""
    s = spec.strip().lower()
    if s in ("all", "*", ""):
        if s == "":
            raise CaptureError("--layers is empty; give e.g. all, 0,3,5-7 or -1")
        return None
    out = set()
    for part in s.split(","):
        part = part.strip()
        m = re.fullmatch(r"(-?\d+)(?:\s*(?:-|\.\.)\s*(-?\d+))?", part)
        # "-1" alone is a negative index, "3-5" a range, "-3--1" a range of negatives.
        if not m:
            raise CaptureError(f"--layers {spec}: {part!r} is not a layer number or a range a-b (e.g. 0,3,5-7)")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        a2 = a + num_layers if a < 0 else a
        b2 = b + num_layers if b < 0 else b
        for x, orig in ((a2, a), (b2, b)):
            if not 0 <= x < num_layers:
                raise CaptureError(f"--layers {spec}: layer {orig} is outside the model's {num_layers} layers (0..{num_layers - 1})")
        if b2 < a2:
            raise CaptureError(f"--layers {spec}: range {part} ends before it starts")
        out.update(range(a2, b2 + 1))
    return sorted(out)


def format_layers(layers: Sequence[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> "0-2,5,7-8"."""
    out: List[str] = []
    ls = sorted(set(layers))
    i = 0
    while i < len(ls):
        j = i
        while j + 1 < len(ls) and ls[j + 1] == ls[j] + 1:
            j += 1
        out.append(str(ls[i]) if i == j else f"{ls[i]}-{ls[j]}")
        i = j + 1
    return ",".join(out)


# ---------------------------------------------------------------------------------------------
# chunks


def plan_chunks(S: int, chunk: int) -> List[Tuple[int, int]]:
    """[(start, end)] covering 0..S in pieces of `chunk` tokens (the last may be shorter)."""
    if S < 1:
        raise CaptureError("no tokens to capture")
    if chunk < 1:
        raise CaptureError(f"--chunk must be a positive number of tokens, got {chunk}")
    return [(s, min(s + chunk, S)) for s in range(0, S, chunk)]


# ---------------------------------------------------------------------------------------------
# sizes


_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}


def parse_bytes(s: str) -> int:
    """"512M", "64G", "1.5GiB", "1000000" -> bytes (K/M/G/T are powers of 1024); "0" = no limit."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(s))
    if not m or m.group(2).lower() not in _UNITS:
        raise CaptureError(f"--max-bytes {s!r}: give a size such as 64G, 512M or 1000000")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n} B"


@dataclass(frozen=True)
class LayerShape:
    """One attention layer's capture shapes: q [heads, S, head_dim], k [kv_heads, S, head_dim],
    v [kv_heads, S, v_head_dim]."""
    heads: int
    kv_heads: int
    head_dim: int
    v_head_dim: int


def capture_specs(S: int, shapes: Dict[int, LayerShape], with_v: bool = True) -> List[TensorSpec]:
    """The file's tensors in the order `sa-studio capture` writes them: input_ids I32 [S], then per
    layer q.<l>, k.<l>, v.<l> (F32)."""
    specs = [TensorSpec("input_ids", "I32", (S,))]
    for l in sorted(shapes):
        sh = shapes[l]
        specs.append(TensorSpec(f"q.{l}", "F32", (sh.heads, S, sh.head_dim)))
        specs.append(TensorSpec(f"k.{l}", "F32", (sh.kv_heads, S, sh.head_dim)))
        if with_v:
            specs.append(TensorSpec(f"v.{l}", "F32", (sh.kv_heads, S, sh.v_head_dim)))
    return specs


def data_bytes(S: int, shapes: Dict[int, LayerShape], with_v: bool = True) -> int:
    """Bytes of tensor data: 4 S + sum over layers of 4 S (heads d + kv_heads d + kv_heads d_v)."""
    return sum(t.nbytes for t in capture_specs(S, shapes, with_v))


def check_size(total: int, max_bytes: int, out_path: str, margin: int = 2**30) -> None:
    """Refuses a file over --max-bytes (0: no limit) or over the free space of the output's disk
    (less a margin of 1 GiB, or 5% of the file)."""
    if max_bytes and total > max_bytes:
        raise CaptureError(f"the capture would be {human(total)} ({total} bytes), over --max-bytes {human(max_bytes)}: "
                           "capture fewer layers (--layers), fewer tokens (--max-tokens), or raise --max-bytes")
    folder = os.path.dirname(os.path.abspath(out_path)) or "."
    free = shutil.disk_usage(folder).free
    need = total + max(margin, total // 20)
    if need > free:
        raise CaptureError(f"the capture would be {human(total)} but {folder} has only {human(free)} free "
                           f"(needed with margin: {human(need)}): write it elsewhere, or capture fewer layers or tokens")


# ---------------------------------------------------------------------------------------------
# --ids


def read_ids_file(path: str) -> List[int]:
    """Token ids from a .npy (1-D integers), a .json list, or text of integers separated by
    whitespace or commas."""
    if not os.path.isfile(path):
        raise CaptureError(f"--ids {path}: no such file")
    if path.endswith(".npy"):
        try:
            a = np.load(path, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - any reason the file is not a plain .npy
            raise CaptureError(f"--ids {path}: not a readable .npy file ({e})")
        if a.ndim == 2 and a.shape[0] == 1:
            a = a[0]
        if a.ndim != 1 or a.dtype.kind not in "iu":
            raise CaptureError(f"--ids {path}: need a 1-D integer array, got {a.dtype} {list(a.shape)}")
        ids = [int(x) for x in a]
    else:
        with open(path, encoding="utf-8") as f:
            txt = f.read()
        t = txt.strip()
        try:
            if t.startswith("["):
                v = json.loads(t)
                if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                    raise ValueError("not a list of integers")
                ids = list(v)
            else:
                ids = [int(x) for x in re.split(r"[\s,]+", t) if x]
        except ValueError as e:
            raise CaptureError(f"--ids {path}: not a list of integer token ids ({e})")
    if not ids:
        raise CaptureError(f"--ids {path} holds no token ids")
    bad = [x for x in ids if x < 0 or x >= 2**31]
    if bad:
        raise CaptureError(f"--ids {path}: token id {bad[0]} is negative or too large for I32")
    return ids


def check_ids_in_vocab(ids: Sequence[int], vocab_size: Optional[int], where: str) -> None:
    if vocab_size is None:
        return
    m = max(ids)
    if m >= vocab_size:
        raise CaptureError(f"{where}: token id {m} is not below the model's vocab_size {vocab_size}: the ids or the tokenizer belong to another model")


# ---------------------------------------------------------------------------------------------
# text


def read_text(path: str) -> str:
    """The file's text exactly (UTF-8, no newline translation, a BOM kept), as Node's
    readFileSync(file, 'utf8') gives it to `sa-studio capture`."""
    if not os.path.isfile(path):
        raise CaptureError(f"--text {path}: no such file")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CaptureError(f"--text {path} is not UTF-8 ({e})")
    if not text:
        raise CaptureError(f"--text {path} is empty")
    return text


# The text goes into __metadata__ whole up to this many UTF-8 bytes (128K tokens of prose are about
# 0.5 MB). JSON escaping can grow text up to 6x (control characters), which keeps even the worst
# case far below the 100 MB header limit of safetensors readers.
TEXT_METADATA_LIMIT = 4 * 2**20


def text_metadata(text: str, limit: int = TEXT_METADATA_LIMIT, include: bool = True) -> Dict[str, str]:
    raw = text.encode("utf-8")
    meta = {"text_sha256": hashlib.sha256(raw).hexdigest(), "text_bytes": str(len(raw)), "text_chars": str(len(text))}
    if include and len(raw) <= limit:
        meta["text"] = text
        meta["text_stored"] = "whole"
    else:
        meta["text_stored"] = "no (over the limit; sha256 and length only)" if include else "no (--no-text)"
    return meta
