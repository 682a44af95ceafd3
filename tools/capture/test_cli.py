"""capture.py's argument checks, which run before torch is imported:
python3 -m unittest discover -s tools/capture"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURE = os.path.join(HERE, "capture.py")
HAS_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("transformers") is not None


def run(*args):
    p = subprocess.run([sys.executable, CAPTURE, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        d = cls.dir.name
        cls.model = os.path.join(d, "model")
        os.mkdir(cls.model)
        with open(os.path.join(cls.model, "config.json"), "w") as f:
            json.dump({"model_type": "llama"}, f)
        cls.text = os.path.join(d, "t.txt")
        with open(cls.text, "w") as f:
            f.write("hello")
        cls.out = os.path.join(d, "o.safetensors")

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def expect2(self, args, needle):
        rc, out, err = run(*args)
        self.assertEqual(rc, 2, (args, out, err))
        self.assertIn(needle, err, (args, err))
        self.assertFalse(os.path.exists(self.out))

    def test_help(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        for flag in ("--model", "--text", "--ids", "--max-tokens", "--layers", "--chunk", "--dtype", "--device", "--out", "--max-bytes", "--no-special-tokens"):
            self.assertIn(flag, out)

    def test_bad_input_exits_2(self):
        m, t, o = self.model, self.text, self.out
        self.expect2([], "required")
        self.expect2(["--model", m, "--out", o], "one of the arguments --text --ids is required")
        self.expect2(["--model", m, "--text", t, "--ids", t, "--out", o], "not allowed with")
        self.expect2(["--model", "/nonexistent", "--text", t, "--out", o], "no such folder")
        self.expect2(["--model", self.dir.name, "--text", t, "--out", o], "no config.json")
        self.expect2(["--model", m, "--text", "/nonexistent.txt", "--out", o], "no such file")
        self.expect2(["--model", m, "--text", t, "--out", self.dir.name], "is a folder")
        self.expect2(["--model", m, "--text", t, "--out", "/nonexistent/x.safetensors"], "does not exist")
        self.expect2(["--model", m, "--text", t, "--out", o, "--chunk", "0"], "--chunk")
        self.expect2(["--model", m, "--text", t, "--out", o, "--max-tokens", "0"], "--max-tokens")
        self.expect2(["--model", m, "--text", t, "--out", o, "--max-bytes", "lots"], "--max-bytes")
        self.expect2(["--model", m, "--text", t, "--out", o, "--dtype", "int8"], "invalid choice")
        self.expect2(["--model", m, "--text", t, "--out", o, "--device", "tpu"], "invalid choice")
        self.expect2(["--model", m, "--ids", t, "--out", o], "not a list of integer token ids")

    @unittest.skipIf(HAS_TORCH, "torch is installed here")
    def test_without_torch_a_clear_error(self):
        self.expect2(["--model", self.model, "--text", self.text, "--out", self.out], "needs torch and transformers")


if __name__ == "__main__":
    unittest.main()
