"""What the capture attention function does with each call, without torch (the tensors arrive
through `to_host`, so test_recorder.py drives it with numpy arrays).

transformers calls the registered attention function once per attention layer per forward with
query (B, heads, T, d) and key/value (B, kv_heads, past + T, d): post-RoPE, after the cache
update (so the cache's earlier keys come first and this call's T new rows are the last T), GQA not
yet repeated. The recorder writes query rows and the last T key/value rows into their slots of the
output file at the chunk's start position.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from plan import CaptureError, LayerShape


class StopForward(Exception):
    """Raised after the last chosen layer has been recorded: nothing after it can change what was
    captured, so the rest of the forward pass (later layers, final norm, lm_head) is skipped."""


class HookError(RuntimeError):
    """The model called the attention function in a way the capture cannot use."""


def _shape(x) -> Tuple[int, ...]:
    return tuple(int(s) for s in x.shape)


class Probe:
    """Records each layer's shapes on a short forward pass (nothing is written)."""

    def __init__(self) -> None:
        self.shapes: Dict[int, LayerShape] = {}
        self.calls: List[int] = []
        self.T: Optional[int] = None
        self.no_layer_idx = 0

    def begin_chunk(self, start: int, length: int) -> None:
        self.T = length

    def record(self, layer, query, key, value, attention_mask) -> bool:
        if layer is None:
            self.no_layer_idx += 1
            return False
        q, k, v = _shape(query), _shape(key), _shape(value)
        if len(q) != 4 or len(k) != 4 or len(v) != 4:
            raise HookError(f"layer {layer}: query/key/value have shapes {list(q)}, {list(k)}, {list(v)}; the capture needs (batch, heads, tokens, head_dim)")
        if q[0] != 1 or q[2] != self.T:
            raise HookError(f"layer {layer}: query shape {list(q)} is not (1, heads, {self.T}, head_dim): the model passes another layout")
        if k[2] != q[2] or v[2] != q[2] or k[1] != v[1]:
            raise HookError(f"layer {layer}: on the first chunk key {list(k)} and value {list(v)} must have query's {q[2]} tokens and the same kv heads")
        if q[3] != k[3]:
            raise HookError(f"layer {layer}: query head_dim {q[3]} differs from key head_dim {k[3]}")
        if q[1] % k[1] != 0:
            raise HookError(f"layer {layer}: {q[1]} query heads are not a multiple of {k[1]} kv heads")
        self.shapes[int(layer)] = LayerShape(heads=q[1], kv_heads=k[1], head_dim=q[3], v_head_dim=v[3])
        self.calls.append(int(layer))
        return False


class Recorder:
    """Writes the chosen layers' rows chunk by chunk.

    writer: has write_rows(name, start, array[A, T, B]) (safetensors_io.StreamingWriter).
    to_host: tensor -> float32 numpy array of the same shape (a device-to-host copy for torch).
    stop_after: the layer after whose recording StopForward is raised (None: never).
    """

    def __init__(self, layers: Sequence[int], shapes: Dict[int, LayerShape], writer, to_host: Callable,
                 with_v: bool = True, stop_after: Optional[int] = None, check_finite: bool = True):
        self.layers: Set[int] = set(int(l) for l in layers)
        self.shapes = shapes
        self.writer = writer
        self.to_host = to_host
        self.with_v = with_v
        self.stop_after = stop_after
        self.check_finite = check_finite
        self.start = 0
        self.T = 0
        self.seen: Set[int] = set()
        self.nonfinite: Dict[str, int] = {}
        self.short_kv_layers: Set[int] = set()  # sliding-window layers whose cache keeps fewer rows

    def begin_chunk(self, start: int, length: int) -> None:
        self.start, self.T = int(start), int(length)
        self.seen = set()

    def end_chunk(self) -> None:
        missing = sorted(self.layers - self.seen)
        if missing:
            raise HookError(f"tokens {self.start}..{self.start + self.T}: layers {missing} were not recorded "
                            "(their attention did not go through the capture attention function)")

    def _put(self, name: str, arr: np.ndarray) -> None:
        if self.check_finite:
            bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
            if bad:
                self.nonfinite[name] = self.nonfinite.get(name, 0) + bad
        self.writer.write_rows(name, self.start, arr)

    def record(self, layer, query, key, value, attention_mask) -> bool:
        """Returns True when the forward pass should stop (StopForward)."""
        if layer is None:
            raise HookError("an attention module has no layer_idx: the capture cannot tell which layer it is")
        layer = int(layer)
        if layer not in self.layers:
            return False
        if layer in self.seen:
            raise HookError(f"layer {layer} called the attention function twice in one forward pass")
        T = self.T
        sh = self.shapes[layer]
        q, k, v = _shape(query), _shape(key), _shape(value)
        if q != (1, sh.heads, T, sh.head_dim):
            raise HookError(f"layer {layer}: query shape {list(q)}, expected [1, {sh.heads}, {T}, {sh.head_dim}]")
        kv_len = k[2]
        if k[:2] != (1, sh.kv_heads) or k[3] != sh.head_dim or v[:2] != (1, sh.kv_heads) or v[2] != kv_len or v[3] != sh.v_head_dim:
            raise HookError(f"layer {layer}: key {list(k)} / value {list(v)} do not match kv_heads {sh.kv_heads}, head_dim {sh.head_dim}, v_head_dim {sh.v_head_dim}")
        if not T <= kv_len <= self.start + T:
            raise HookError(f"layer {layer}: key has {kv_len} positions at tokens {self.start}..{self.start + T}; "
                            f"expected between {T} and {self.start + T} (the cache is not being used as planned)")
        if kv_len < self.start + T:
            self.short_kv_layers.add(layer)
        if self.start > 0 and T > 1 and attention_mask is None and kv_len > T:
            # With past keys and no mask, sdpa's is_causal would align the causal mask top-left:
            # every query row would see the wrong keys. transformers builds a mask here when the
            # mask interface knows the attention implementation's name.
            raise HookError(f"layer {layer}: no attention mask for a chunk after the first (tokens {self.start}..{self.start + T}); "
                            "chunked prefill would be wrong. Is the capture mask function registered?")
        self._put(f"q.{layer}", self.to_host(query[0]))
        self._put(f"k.{layer}", self.to_host(key[0, :, kv_len - T:, :]))
        if self.with_v:
            self._put(f"v.{layer}", self.to_host(value[0, :, kv_len - T:, :]))
        self.seen.add(layer)
        return self.stop_after is not None and layer == self.stop_after
