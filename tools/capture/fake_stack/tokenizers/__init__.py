"""Fake tokenizers for test_glue.py: one id per UTF-8 byte, plus 1000 as BOS when tokenizer.json says so."""
import json

__version__ = "0.0-fake"


class _Enc:
    def __init__(self, ids):
        self.ids = ids


class Tokenizer:
    def __init__(self, bos):
        self.bos = bos

    @classmethod
    def from_file(cls, path):
        with open(path) as f:
            return cls(json.load(f).get("fake_bos"))

    def encode(self, text, add_special_tokens=True):
        ids = list(text.encode("utf-8"))
        return _Enc(([self.bos] if add_special_tokens and self.bos is not None else []) + ids)
