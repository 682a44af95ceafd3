"""The recorder driven by a fake chunked attention (numpy arrays shaped as transformers passes them):
python3 -m unittest discover -s tools/capture"""
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402
from plan import LayerShape, capture_specs, plan_chunks  # noqa: E402
from recorder import HookError, Probe, Recorder  # noqa: E402


class FakeModel:
    """Per layer and token, deterministic q/k/v; a forward over tokens a..b calls `attn` layer by
    layer like transformers does: query (1, H, T, d), key/value (1, KV, past + T, d) from a cache."""

    def __init__(self, L=4, H=4, KV=2, d=3, S=11, window=None):
        self.L, self.H, self.KV, self.d, self.S, self.window = L, H, KV, d, S, window
        rng = np.random.default_rng(1)
        self.q = rng.standard_normal((L, H, S, d)).astype(np.float32)
        self.k = rng.standard_normal((L, KV, S, d)).astype(np.float32)
        self.v = rng.standard_normal((L, KV, S, d)).astype(np.float32)

    def forward(self, a, b, attn, mask_after_first=True):
        for l in range(self.L):
            lo = 0 if self.window is None else max(0, a - self.window)
            key = self.k[l][None, :, lo:b]
            value = self.v[l][None, :, lo:b]
            mask = object() if (mask_after_first and key.shape[2] > b - a) else None
            if attn(l, self.q[l][None, :, a:b], key, value, mask):
                return "stopped", l
        return "done", self.L - 1


class RecorderTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "c.safetensors")

    def tearDown(self):
        self.dir.cleanup()

    def capture(self, m, layers, chunk, **kw):
        shapes = {l: LayerShape(m.H, m.KV, m.d, m.d) for l in layers}
        w = st.StreamingWriter(self.path, capture_specs(m.S, shapes), {})
        w.write("input_ids", np.arange(m.S, dtype=np.int32))
        rec = Recorder(layers, shapes, w, np.asarray, stop_after=max(layers), **kw)
        stops = []
        for a, b in plan_chunks(m.S, chunk):
            rec.begin_chunk(a, b - a)
            stops.append(m.forward(a, b, rec.record))
            rec.end_chunk()
        w.finish()
        return rec, stops

    def test_chunked_equals_whole(self):
        m = FakeModel()
        for chunk in (1, 3, 4, 11, 100):
            rec, stops = self.capture(m, [0, 2], chunk)
            self.assertTrue(all(s == ("stopped", 2) for s in stops), stops)  # layer 3 never runs
            h = st.read_header(self.path)
            for l in (0, 2):
                np.testing.assert_array_equal(st.load(self.path, f"q.{l}", h), m.q[l])
                np.testing.assert_array_equal(st.load(self.path, f"k.{l}", h), m.k[l])
                np.testing.assert_array_equal(st.load(self.path, f"v.{l}", h), m.v[l])
            self.assertNotIn("q.1", h.entries)

    def test_sliding_window_cache(self):
        m = FakeModel(window=2)
        rec, _ = self.capture(m, [1], 4)
        np.testing.assert_array_equal(st.load(self.path, "k.1"), m.k[1])
        self.assertEqual(rec.short_kv_layers, {1})

    def test_missing_mask_after_first_chunk_is_an_error(self):
        m = FakeModel()
        shapes = {0: LayerShape(m.H, m.KV, m.d, m.d)}
        w = st.StreamingWriter(self.path, capture_specs(m.S, shapes), {})
        rec = Recorder([0], shapes, w, np.asarray, stop_after=0)
        rec.begin_chunk(0, 4)
        m.forward(0, 4, rec.record, mask_after_first=False)  # first chunk: no mask is right
        rec.begin_chunk(4, 4)
        with self.assertRaisesRegex(HookError, "no attention mask"):
            m.forward(4, 8, rec.record, mask_after_first=False)
        w.abort()

    def test_missing_layer_and_bad_shapes(self):
        m = FakeModel()
        shapes = {l: LayerShape(m.H, m.KV, m.d, m.d) for l in (0, 1)}
        w = st.StreamingWriter(self.path, capture_specs(m.S, shapes), {})
        rec = Recorder([0, 1], shapes, w, np.asarray, stop_after=1)
        rec.begin_chunk(0, 4)
        rec.record(0, m.q[0][None, :, :4], m.k[0][None, :, :4], m.v[0][None, :, :4], None)
        with self.assertRaisesRegex(HookError, r"layers \[1\] were not recorded"):
            rec.end_chunk()
        with self.assertRaisesRegex(HookError, "twice"):
            rec.record(0, m.q[0][None, :, :4], m.k[0][None, :, :4], m.v[0][None, :, :4], None)
        with self.assertRaisesRegex(HookError, "query shape"):
            rec.record(1, m.q[0][None, :, :3], m.k[0][None, :, :4], m.v[0][None, :, :4], None)
        with self.assertRaisesRegex(HookError, "key has"):
            rec.record(1, m.q[1][None, :, :4], m.k[1][None, :, :3], m.v[1][None, :, :3], None)
        with self.assertRaisesRegex(HookError, "layer_idx"):
            rec.record(None, m.q[1][None, :, :4], m.k[1][None, :, :4], m.v[1][None, :, :4], None)
        self.assertFalse(rec.record(3, None, None, None, None))  # not chosen: ignored
        w.abort()

    def test_nonfinite_counted(self):
        m = FakeModel()
        m.q[0, 1, 5, 2] = np.inf
        m.k[0, 0, 0, 0] = np.nan
        rec, _ = self.capture(m, [0], 4)
        self.assertEqual(rec.nonfinite, {"q.0": 1, "k.0": 1})

    def test_probe(self):
        m = FakeModel()
        p = Probe()
        p.begin_chunk(0, 4)
        m.forward(0, 4, p.record)
        self.assertEqual(sorted(p.shapes), [0, 1, 2, 3])
        self.assertEqual(p.shapes[0], LayerShape(4, 2, 3, 3))
        p2 = Probe()
        p2.begin_chunk(0, 4)
        with self.assertRaisesRegex(HookError, "not .1, heads"):
            p2.record(0, np.zeros((1, 4, 3, 3)), np.zeros((1, 2, 3, 3)), np.zeros((1, 2, 3, 3)), None)
        with self.assertRaisesRegex(HookError, "multiple"):
            p2.record(0, np.zeros((1, 4, 4, 3)), np.zeros((1, 3, 4, 3)), np.zeros((1, 3, 4, 3)), None)
        self.assertFalse(p2.record(None, None, None, None, None))
        self.assertEqual(p2.no_layer_idx, 1)


if __name__ == "__main__":
    unittest.main()
