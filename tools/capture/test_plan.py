"""python3 -m unittest discover -s tools/capture   (standard library + numpy; no torch)"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plan import (CaptureError, LayerShape, capture_specs, check_ids_in_vocab, check_size, data_bytes,  # noqa: E402
                  format_layers, parse_bytes, parse_layers, plan_chunks, read_ids_file, read_text, text_metadata)


class Layers(unittest.TestCase):
    def test_lists_and_ranges(self):
        self.assertIsNone(parse_layers("all", 8))
        self.assertIsNone(parse_layers(" ALL ", 8))
        self.assertEqual(parse_layers("0,3,5-7", 8), [0, 3, 5, 6, 7])
        self.assertEqual(parse_layers("7,0,0,1", 8), [0, 1, 7])
        self.assertEqual(parse_layers("-1", 16), [15])
        self.assertEqual(parse_layers("0,-1", 16), [0, 15])
        self.assertEqual(parse_layers("-3--1", 16), [13, 14, 15])
        self.assertEqual(parse_layers("2..4", 16), [2, 3, 4])
        self.assertEqual(parse_layers("5 - 6", 16), [5, 6])

    def test_errors(self):
        for bad in ("", "8", "-9", "a", "1,,2", "5-3", "1-", "0.5", "1-2-3"):
            with self.assertRaises(CaptureError, msg=bad):
                parse_layers(bad, 8)

    def test_format(self):
        self.assertEqual(format_layers([0, 1, 2, 5, 7, 8]), "0-2,5,7-8")
        self.assertEqual(format_layers([15, 0]), "0,15")
        self.assertEqual(format_layers([]), "")


class Chunks(unittest.TestCase):
    def test_cover_exactly(self):
        self.assertEqual(plan_chunks(10, 4), [(0, 4), (4, 8), (8, 10)])
        self.assertEqual(plan_chunks(8, 4), [(0, 4), (4, 8)])
        self.assertEqual(plan_chunks(3, 4096), [(0, 3)])
        self.assertEqual(plan_chunks(1, 1), [(0, 1)])
        for S in (1, 7, 4096, 4097, 65536, 131072):
            for c in (1, 512, 4096):
                if S // c > 5000:
                    continue
                ch = plan_chunks(S, c)
                self.assertEqual(ch[0][0], 0)
                self.assertEqual(ch[-1][1], S)
                self.assertTrue(all(a < b <= a + c for a, b in ch))
                self.assertTrue(all(p[1] == n[0] for p, n in zip(ch, ch[1:])))

    def test_errors(self):
        with self.assertRaises(CaptureError):
            plan_chunks(0, 4)
        with self.assertRaises(CaptureError):
            plan_chunks(4, 0)


class Sizes(unittest.TestCase):
    def test_bytes(self):
        self.assertEqual(parse_bytes("0"), 0)
        self.assertEqual(parse_bytes("1000"), 1000)
        self.assertEqual(parse_bytes("512M"), 512 * 2**20)
        self.assertEqual(parse_bytes("64G"), 64 * 2**30)
        self.assertEqual(parse_bytes("1.5GiB"), 3 * 2**29)
        self.assertEqual(parse_bytes("2tb"), 2 * 2**40)
        for bad in ("", "G", "-1", "1X", "1 2"):
            with self.assertRaises(CaptureError, msg=bad):
                parse_bytes(bad)

    def test_formula(self):
        # Llama-3.1-8B: 32 heads, 8 kv heads, d 128; 131072 tokens: q 2 GiB + k 0.5 GiB + v 0.5 GiB a layer.
        sh = LayerShape(32, 8, 128, 128)
        S = 131072
        self.assertEqual(data_bytes(S, {0: sh}), 4 * S + 4 * S * (32 * 128 + 2 * 8 * 128))
        self.assertEqual(data_bytes(S, {0: sh}) - 4 * S, 3 * 2**30)
        self.assertEqual(data_bytes(S, {0: sh}, with_v=False) - 4 * S, int(2.5 * 2**30))
        self.assertEqual(data_bytes(S, {l: sh for l in range(32)}) - 4 * S, 96 * 2**30)
        # Llama-3.2-1B shape at 64K tokens: q 512 MiB, k and v 128 MiB each.
        sh1 = LayerShape(32, 8, 64, 64)
        self.assertEqual(data_bytes(65536, {0: sh1, 15: sh1}) - 4 * 65536, 2 * 768 * 2**20)

    def test_specs_order_like_sa_studio(self):
        sh = LayerShape(4, 2, 8, 8)
        names = [t.name for t in capture_specs(5, {3: sh, 1: sh})]
        self.assertEqual(names, ["input_ids", "q.1", "k.1", "v.1", "q.3", "k.3", "v.3"])
        sp = capture_specs(5, {1: sh})
        self.assertEqual([(t.dtype, t.shape) for t in sp], [("I32", (5,)), ("F32", (4, 5, 8)), ("F32", (2, 5, 8)), ("F32", (2, 5, 8))])
        self.assertEqual([t.name for t in capture_specs(5, {1: sh}, with_v=False)], ["input_ids", "q.1", "k.1"])

    def test_refusals(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "x.safetensors")
            check_size(1000, 2000, out, margin=0)
            check_size(1000, 0, out, margin=0)  # 0: no limit
            with self.assertRaisesRegex(CaptureError, "over --max-bytes"):
                check_size(3000, 2000, out)
            with self.assertRaisesRegex(CaptureError, "free"):
                check_size(2**62, 0, out)


class Ids(unittest.TestCase):
    def test_formats(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "a.npy")
            np.save(p, np.array([1, 2, 3], dtype=np.int64))
            self.assertEqual(read_ids_file(p), [1, 2, 3])
            np.save(p, np.array([[4, 5]], dtype=np.int32))
            self.assertEqual(read_ids_file(p), [4, 5])
            p2 = os.path.join(d, "a.json")
            with open(p2, "w") as f:
                json.dump([7, 8], f)
            self.assertEqual(read_ids_file(p2), [7, 8])
            p3 = os.path.join(d, "a.txt")
            with open(p3, "w") as f:
                f.write("1, 2\n3 4\n")
            self.assertEqual(read_ids_file(p3), [1, 2, 3, 4])
            for content in ("", "[1.5]", "a b", "[-1]"):
                with open(p3, "w") as f:
                    f.write(content)
                with self.assertRaises(CaptureError, msg=content):
                    read_ids_file(p3)
            np.save(p, np.array([1.0]))
            with self.assertRaises(CaptureError):
                read_ids_file(p)
            with self.assertRaises(CaptureError):
                read_ids_file(os.path.join(d, "missing.npy"))

    def test_vocab(self):
        check_ids_in_vocab([0, 9], 10, "x")
        check_ids_in_vocab([0, 10], None, "x")
        with self.assertRaises(CaptureError):
            check_ids_in_vocab([0, 10], 10, "x")


class Text(unittest.TestCase):
    def test_read_exactly(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "t.txt")
            with open(p, "wb") as f:
                f.write("\ufeffa\r\nb\rc\n".encode("utf-8"))
            self.assertEqual(read_text(p), "\ufeffa\r\nb\rc\n")  # no newline translation, BOM kept (as Node)
            with open(p, "wb") as f:
                f.write(b"\xff\xfe")
            with self.assertRaises(CaptureError):
                read_text(p)
            with open(p, "wb") as f:
                f.write(b"")
            with self.assertRaises(CaptureError):
                read_text(p)

    def test_metadata(self):
        m = text_metadata("héllo")
        self.assertEqual(m["text"], "héllo")
        self.assertEqual(m["text_bytes"], "6")
        self.assertEqual(m["text_chars"], "5")
        self.assertEqual(len(m["text_sha256"]), 64)
        m = text_metadata("x" * 100, limit=10)
        self.assertNotIn("text", m)
        self.assertTrue(m["text_stored"].startswith("no"))
        self.assertNotIn("text", text_metadata("x", include=False))
        import hashlib
        self.assertEqual(text_metadata("abc")["text_sha256"], hashlib.sha256(b"abc").hexdigest())


if __name__ == "__main__":
    unittest.main()
