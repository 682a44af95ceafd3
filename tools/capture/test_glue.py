"""capture.py end to end on numpy stand-ins for torch/transformers/tokenizers (fake_stack/): the
glue (arguments, probe, hook registration, chunk loop, writer, metadata, summary, exit codes) runs
without PyTorch. What transformers really does is checked by device_selftest.py on a GPU.
python3 -m unittest discover -s tools/capture"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import safetensors_io as st  # noqa: E402

CAPTURE = os.path.join(HERE, "capture.py")


def fake_qkv(*a):
    # The same formula the fake model uses (import it without shadowing a real torch here).
    import importlib.util
    spec = importlib.util.spec_from_file_location("fake_transformers_formula", os.path.join(HERE, "fake_stack", "transformers", "__init__.py"))
    saved = sys.modules.get("torch")
    spec_t = importlib.util.spec_from_file_location("torch", os.path.join(HERE, "fake_stack", "torch", "__init__.py"))
    ft = importlib.util.module_from_spec(spec_t)
    spec_t.loader.exec_module(ft)
    sys.modules["torch"] = ft
    try:
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
    finally:
        if saved is None:
            del sys.modules["torch"]
        else:
            sys.modules["torch"] = saved
    return m.qkv(*a)


def run(*args):
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "fake_stack"))
    p = subprocess.run([sys.executable, CAPTURE, *args], capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


class Glue(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.d = self.dir.name
        self.out = os.path.join(self.d, "c.safetensors")

    def tearDown(self):
        self.dir.cleanup()

    def model(self, **extra):
        m = os.path.join(self.d, "m")
        os.makedirs(m, exist_ok=True)
        cfg = dict(model_type="fakellama", architectures=["FakeForCausalLM"], num_hidden_layers=4, num_attention_heads=4,
                   num_key_value_heads=2, hidden_size=24, head_dim=6, vocab_size=1001, max_position_embeddings=64, dtype="bfloat16")
        cfg.update(extra)
        with open(os.path.join(m, "config.json"), "w") as f:
            json.dump(cfg, f)
        with open(os.path.join(m, "tokenizer.json"), "w") as f:
            json.dump({"fake_bos": 1000}, f)
        return m

    def test_text_chunked_all_layers(self):
        m = self.model()
        text = os.path.join(self.d, "t.txt")
        with open(text, "w", encoding="utf-8", newline="") as f:
            f.write("héllo wörld\r\n, and more")  # 25 bytes + BOS = 26 tokens
        rc, out, err = run("--model", m, "--text", text, "--chunk", "5", "--out", self.out)
        self.assertEqual(rc, 0, err)
        summary = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(summary["tokens"], 26)
        self.assertEqual(summary["chunks"], 6)
        self.assertEqual(summary["layers"], "0-3")
        self.assertIn("chunk 6/6", err)
        h = st.read_header(self.out)
        st.check_tiles(h, os.path.getsize(self.out), self.out)
        ids = np.asarray(st.load(self.out, "input_ids", h))
        raw = "héllo wörld\r\n, and more".encode("utf-8")
        self.assertEqual(ids.tolist(), [1000] + list(raw))
        pos = np.arange(26)
        for l in range(4):
            np.testing.assert_allclose(st.load(self.out, f"q.{l}", h), fake_qkv(l, "q", 4, ids, pos, 6), rtol=0, atol=0)
            np.testing.assert_allclose(st.load(self.out, f"k.{l}", h), fake_qkv(l, "k", 2, ids, pos, 6), rtol=0, atol=0)
            np.testing.assert_allclose(st.load(self.out, f"v.{l}", h), fake_qkv(l, "v", 2, ids, pos, 6), rtol=0, atol=0)
        md = h.metadata
        self.assertEqual(md["tool"], "tools/capture")
        self.assertEqual(md["family"], "fakellama")
        self.assertEqual(md["architectures"], "FakeForCausalLM")
        self.assertEqual((md["layers"], md["num_layers"], md["heads"], md["kv_heads"], md["head_dim"]), ("0,1,2,3", "4", "4", "2", "6"))
        self.assertEqual(md["text"], "héllo wörld\r\n, and more")
        self.assertEqual(md["text_bytes"], str(len(raw)))
        self.assertEqual((md["tokens"], md["chunk"], md["dtype"]), ("26", "5", "float32"))  # CPU: auto dtype is fp32
        self.assertEqual(md["torch"], "0.0-fake")
        self.assertIn("capture_s", md)
        self.assertEqual(md["nonfinite_values"], "0")
        self.assertEqual(json.loads(md["hf_config"])["num_hidden_layers"], 4)
        self.assertFalse(os.path.exists(self.out + ".partial"))

    def test_ids_some_layers_max_tokens_stop_early(self):
        m = self.model()
        ids_file = os.path.join(self.d, "ids.npy")
        ids = np.random.default_rng(0).integers(0, 1001, 40)
        np.save(ids_file, ids)
        rc, out, err = run("--model", m, "--ids", ids_file, "--layers", "0,-3", "--max-tokens", "17", "--chunk", "4",
                           "--no-v", "--dtype", "bf16", "--out", self.out)
        self.assertEqual(rc, 0, err)
        h = st.read_header(self.out)
        self.assertEqual(list(st.names(h)), ["input_ids", "q.0", "k.0", "q.1", "k.1"])
        np.testing.assert_array_equal(st.load(self.out, "input_ids", h), ids[:17])
        np.testing.assert_array_equal(st.load(self.out, "k.1", h), fake_qkv(1, "k", 2, ids[:17], np.arange(17), 6))
        self.assertEqual(h.metadata["ids_file"], "ids.npy")
        self.assertNotIn("text", h.metadata)
        self.assertEqual(h.metadata["dtype"], "bfloat16")
        self.assertEqual(h.metadata["v"], "no")

    def test_no_special_tokens(self):
        m = self.model()
        text = os.path.join(self.d, "t.txt")
        with open(text, "w") as f:
            f.write("abc")
        rc, out, err = run("--model", m, "--text", text, "--no-special-tokens", "--out", self.out)
        self.assertEqual(rc, 0, err)
        self.assertEqual(np.asarray(st.load(self.out, "input_ids")).tolist(), [97, 98, 99])

    def test_refusals_before_loading(self):
        m = self.model()
        ids_file = os.path.join(self.d, "ids.txt")
        with open(ids_file, "w") as f:
            f.write(" ".join(["5"] * 40))
        rc, _, err = run("--model", m, "--ids", ids_file, "--max-bytes", "1K", "--out", self.out)
        self.assertEqual(rc, 2)
        self.assertIn("over --max-bytes", err)
        self.assertNotIn("loading", err)
        rc, _, err = run("--model", self.model(max_position_embeddings=10), "--ids", ids_file, "--out", self.out)
        self.assertEqual(rc, 2)
        self.assertIn("max_position_embeddings 10", err)
        rc, _, err = run("--model", self.model(max_position_embeddings=64), "--ids", ids_file, "--layers", "4", "--out", self.out)
        self.assertEqual(rc, 2)
        self.assertIn("outside the model's 4 layers", err)
        with open(ids_file, "w") as f:
            f.write("1 2 1001")
        rc, _, err = run("--model", m, "--ids", ids_file, "--out", self.out)
        self.assertEqual(rc, 2)
        self.assertIn("vocab_size 1001", err)
        self.assertFalse(os.path.exists(self.out))

    def test_model_that_ignores_the_hook(self):
        m = self.model(fake_ignore_attn=True)
        ids_file = os.path.join(self.d, "ids.txt")
        with open(ids_file, "w") as f:
            f.write("1 2 3")
        rc, _, err = run("--model", m, "--ids", ids_file, "--out", self.out)
        self.assertEqual(rc, 1)
        self.assertIn("no attention layer called the capture attention function", err)
        self.assertFalse(os.path.exists(self.out))
        self.assertFalse(os.path.exists(self.out + ".partial"))

    def test_layers_without_attention(self):
        m = self.model(fake_no_attention_layers=[1])
        ids_file = os.path.join(self.d, "ids.txt")
        with open(ids_file, "w") as f:
            f.write("1 2 3 4 5 6 7")
        rc, out, err = run("--model", m, "--ids", ids_file, "--chunk", "3", "--out", self.out)
        self.assertEqual(rc, 0, err)
        self.assertEqual(st.read_header(self.out).metadata["layers"], "0,2,3")
        rc, _, err = run("--model", m, "--ids", ids_file, "--layers", "1", "--out", self.out + "2")
        self.assertEqual(rc, 2)
        self.assertIn("layers [1] have no attention", err)


if __name__ == "__main__":
    unittest.main()
