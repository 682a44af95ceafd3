"""python3 -m unittest discover -s tools/capture   (standard library + numpy; no torch)"""
import json
import os
import struct
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io as st  # noqa: E402


def raw_header(b: bytes):
    (n,) = struct.unpack("<Q", b[:8])
    return n, b[8:8 + n]


class LayoutAndHeader(unittest.TestCase):
    def test_offsets_are_contiguous_in_order(self):
        specs = [st.TensorSpec("input_ids", "I32", (5,)), st.TensorSpec("q.0", "F32", (2, 5, 3)), st.TensorSpec("k.0", "F32", (1, 5, 3))]
        es = st.layout(specs)
        self.assertEqual([(e.begin, e.end) for e in es], [(0, 20), (20, 140), (140, 200)])

    def test_header_padded_with_spaces_to_8(self):
        for extra in range(0, 20):
            meta = {"x": "y" * extra}
            b = st.encode([("a", "F32", np.zeros((1, 2, 3), np.float32))], meta)
            n, head = raw_header(b)
            self.assertEqual(n % 8, 0)
            self.assertEqual((8 + n) % 8, 0)  # data section 8-byte aligned
            stripped = head.rstrip(b" ")
            self.assertTrue(head.startswith(b"{"))
            self.assertEqual(head[len(stripped):], b" " * (n - len(stripped)))
            self.assertLess(n - len(stripped), 8)
            obj = json.loads(head)
            self.assertEqual(list(obj)[0], "__metadata__")
            self.assertEqual(obj["a"], {"dtype": "F32", "shape": [1, 2, 3], "data_offsets": [0, 24]})

    def test_length_is_little_endian_u64(self):
        b = st.encode([("a", "I32", np.arange(3, dtype=np.int32))])
        n = int.from_bytes(b[:8], "little")
        self.assertEqual(n, len(b) - 8 - 12)
        self.assertEqual(np.frombuffer(b[8 + n:], "<i4").tolist(), [0, 1, 2])

    def test_metadata_must_be_strings(self):
        with self.assertRaises(st.SafetensorsError):
            st.header_json([], {"layers": 3})

    def test_reserved_and_repeated_names(self):
        with self.assertRaises(st.SafetensorsError):
            st.layout([st.TensorSpec("__metadata__", "F32", (1,))])
        with self.assertRaises(st.SafetensorsError):
            st.layout([st.TensorSpec("a", "F32", (1,)), st.TensorSpec("a", "F32", (1,))])
        with self.assertRaises(st.SafetensorsError):
            st.layout([st.TensorSpec("a", "F33", (1,))])

    def test_unicode_metadata_is_utf8(self):
        b = st.encode([("a", "F32", np.zeros(1, np.float32))], {"text": "Ünïcödé 日本語 🙂\n\"q\"\t\x00"})
        n, head = raw_header(b)
        self.assertEqual(json.loads(head.decode("utf-8"))["__metadata__"]["text"], "Ünïcödé 日本語 🙂\n\"q\"\t\x00")
        self.assertEqual(st.parse_header_bytes(head).metadata["text"], "Ünïcödé 日本語 🙂\n\"q\"\t\x00")


class Streaming(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "c.safetensors")

    def tearDown(self):
        self.dir.cleanup()

    def specs(self, S=10):
        return [st.TensorSpec("input_ids", "I32", (S,)), st.TensorSpec("q.0", "F32", (4, S, 3)),
                st.TensorSpec("k.0", "F32", (2, S, 3)), st.TensorSpec("v.0", "F32", (2, S, 3))]

    def test_row_writes_equal_whole_encode(self):
        S = 10
        rng = np.random.default_rng(0)
        ids = rng.integers(0, 1000, S).astype(np.int32)
        q = rng.standard_normal((4, S, 3)).astype(np.float32)
        k = rng.standard_normal((2, S, 3)).astype(np.float32)
        v = rng.standard_normal((2, S, 3)).astype(np.float32)
        w = st.StreamingWriter(self.path, self.specs(S), {"model": "m"}, reserve=64)
        self.assertTrue(os.path.exists(self.path + ".partial"))
        self.assertFalse(os.path.exists(self.path))
        w.write("input_ids", ids)
        for a, b in [(0, 4), (4, 8), (8, 10)]:
            w.write_rows("q.0", a, q[:, a:b])
            w.write_rows("k.0", a, k[:, a:b].astype(np.float64))  # converted to F32
            w.write_rows("v.0", a, v[:, a:b])
        meta = w.finish({"elapsed_s": "1.5"})
        self.assertEqual(meta["elapsed_s"], "1.5")
        self.assertFalse(os.path.exists(self.path + ".partial"))
        h = st.read_header(self.path)
        st.check_tiles(h, os.path.getsize(self.path), self.path)
        self.assertEqual(h.metadata, {"model": "m", "elapsed_s": "1.5"})
        self.assertEqual(list(st.names(h)), ["input_ids", "q.0", "k.0", "v.0"])
        np.testing.assert_array_equal(st.load(self.path, "input_ids", h), ids)
        np.testing.assert_array_equal(st.load(self.path, "q.0", h), q)
        np.testing.assert_array_equal(st.load(self.path, "k.0", h), k)
        np.testing.assert_array_equal(st.load(self.path, "v.0", h, mmap=False), v)
        # The same tensors written in one piece give the same bytes after the header.
        whole = st.encode([("input_ids", "I32", ids), ("q.0", "F32", q), ("k.0", "F32", k), ("v.0", "F32", v)])
        n_whole, _ = raw_header(whole)
        with open(self.path, "rb") as f:
            b = f.read()
        self.assertEqual(b[8 + h.header_len:], whole[8 + n_whole:])
        self.assertEqual(h.header_len % 8, 0)

    def test_unfinished_file_has_zero_length_and_is_refused(self):
        w = st.StreamingWriter(self.path, self.specs(), {})
        with open(self.path + ".partial", "rb") as f:
            self.assertEqual(f.read(8), b"\0" * 8)
        with self.assertRaises(st.SafetensorsError):
            st.read_header(self.path + ".partial")
        w.abort()
        self.assertFalse(os.path.exists(self.path + ".partial"))

    def test_finish_refuses_missing_rows(self):
        w = st.StreamingWriter(self.path, self.specs(), {})
        w.write("input_ids", np.zeros(10, np.int32))
        for n in ("q.0", "k.0", "v.0"):
            w.write_rows(n, 0, np.zeros((4 if n == "q.0" else 2, 6, 3), np.float32))
        self.assertEqual(w.missing(), ["q.0 (rows from 6, 4 rows in all)", "k.0 (rows from 6, 4 rows in all)", "v.0 (rows from 6, 4 rows in all)"])
        with self.assertRaises(st.SafetensorsError):
            w.finish()
        w.abort()

    def test_row_bounds_and_shapes_checked(self):
        w = st.StreamingWriter(self.path, self.specs(), {})
        with self.assertRaises(st.SafetensorsError):
            w.write_rows("q.0", 8, np.zeros((4, 3, 3), np.float32))  # past S
        with self.assertRaises(st.SafetensorsError):
            w.write_rows("q.0", 0, np.zeros((3, 3, 3), np.float32))  # wrong heads
        with self.assertRaises(st.SafetensorsError):
            w.write_rows("nope", 0, np.zeros((4, 3, 3), np.float32))
        with self.assertRaises(st.SafetensorsError):
            w.write("input_ids", np.zeros(9, np.int32))
        w.abort()

    def test_extra_metadata_that_does_not_fit_is_dropped(self):
        w = st.StreamingWriter(self.path, [st.TensorSpec("a", "F32", (1,))], {"m": "x"}, reserve=0)
        w.write("a", np.ones(1, np.float32))
        meta = w.finish({"long": "y" * 1000})
        self.assertNotIn("long", meta)
        self.assertEqual(st.read_header(self.path).metadata["m"], "x")

    def test_preallocated_size(self):
        w = st.StreamingWriter(self.path, self.specs(), {}, reserve=100)
        self.assertEqual(os.path.getsize(self.path + ".partial"), w.size)
        self.assertEqual(w.size, st.file_size(self.specs(), w.header_len))
        w.abort()


class Reader(unittest.TestCase):
    def test_rejects_like_the_studio_parser(self):
        ok = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
        st.parse_header_bytes(json.dumps(ok).encode())
        bad = [
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}},  # size != numel * 4
            {"a": {"dtype": "X", "shape": [2], "data_offsets": [0, 8]}},
            {"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 8]}},
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}},
        ]
        for b in bad:
            with self.assertRaises(st.SafetensorsError):
                st.parse_header_bytes(json.dumps(b).encode())
        with self.assertRaises(st.SafetensorsError):
            st.parse_header_bytes(json.dumps(ok).encode(), data_bytes=4)

    def test_check_tiles_finds_gaps(self):
        h = st.parse_header_bytes(json.dumps({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}).encode())
        with self.assertRaises(st.SafetensorsError):
            st.check_tiles(h, h.data_start + 8)


if __name__ == "__main__":
    unittest.main()
