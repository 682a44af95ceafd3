"""Fake transformers for test_glue.py: a numpy "model" whose attention layers call the registered
attention function as transformers 5.x does. Its q/k/v are a closed formula of (layer, head, token
id, position, dim), so the test can check every captured value. Not transformers."""
import json
import os
from collections.abc import MutableMapping

import numpy as np
import torch

__version__ = "0.0-fake"


class GeneralInterface(MutableMapping):
    _global_mapping = {}

    def __init__(self):
        self._local_mapping = {}

    def __getitem__(self, k):
        return self._local_mapping[k] if k in self._local_mapping else self._global_mapping[k]

    def __setitem__(self, k, v):
        self._local_mapping[k] = v

    def __delitem__(self, k):
        del self._local_mapping[k]

    def __iter__(self):
        return iter({**self._global_mapping, **self._local_mapping})

    def __len__(self):
        return len(set(self._global_mapping) | set(self._local_mapping))

    @classmethod
    def register(cls, k, v):
        cls._global_mapping.update({k: v})


def fake_sdpa(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kw):
    module.sdpa_calls.append((query.shape, key.shape, attention_mask))
    return query, None


class AttentionInterface(GeneralInterface):
    _global_mapping = {"sdpa": fake_sdpa}


class AttentionMaskInterface(GeneralInterface):
    _global_mapping = {"sdpa": lambda **kw: ("mask", kw["q"], kw["kv"])}


ALL_ATTENTION_FUNCTIONS = AttentionInterface()
ALL_MASK_ATTENTION_FUNCTIONS = AttentionMaskInterface()


class Config:
    def __init__(self, d):
        self.__dict__.update(d)
        self._name_or_path = d.get("_name_or_path", "")
        self._attn_implementation = None

    def get_text_config(self):
        return self

    def to_json_string(self, use_diff=True):
        return json.dumps({k: v for k, v in self.__dict__.items() if not k.startswith("_")})


class AutoConfig:
    @staticmethod
    def from_pretrained(path, **kw):
        with open(os.path.join(path, "config.json")) as f:
            return Config(json.load(f))


def qkv(l, kind, heads, ids, pos, d):
    """(heads, T, d) values of a closed formula; ids and pos are 1-D."""
    h = np.arange(heads)[:, None, None]
    t_id = np.asarray(ids)[None, :, None]
    t_pos = np.asarray(pos)[None, :, None]
    j = np.arange(d)[None, None, :]
    k = {"q": 1.0, "k": 2.0, "v": 3.0}[kind]
    return (np.sin(0.01 * t_id + 0.001 * t_pos * (j + 1) + 0.1 * l + 0.37 * h + k) + 0.001 * t_pos).astype(np.float32)


class DynamicCache:
    def __init__(self, config=None):
        self.k, self.v = {}, {}

    def get_seq_length(self, layer_idx=0):
        return 0 if layer_idx not in self.k else self.k[layer_idx].shape[2]

    def update(self, k, v, l):
        if l in self.k:
            self.k[l] = np.concatenate([self.k[l], k], axis=2)
            self.v[l] = np.concatenate([self.v[l], v], axis=2)
        else:
            self.k[l], self.v[l] = k, v
        return self.k[l], self.v[l]


class Weight:
    def __init__(self):
        self.device = torch.device("cpu")


class Attn:
    def __init__(self, config, l):
        self.config, self.layer_idx, self.sdpa_calls = config, l, []


class FakeLM:
    def __init__(self, config):
        self.config = config
        self.layers = [Attn(config, l) for l in range(config.num_hidden_layers)]
        self.forwards = 0

    def eval(self):
        return self

    def parameters(self):
        return iter([Weight()])

    def get_input_embeddings(self):
        e = type("E", (), {})()
        e.weight = Weight()
        return e

    def set_attn_implementation(self, name):
        self.config._attn_implementation = name

    def __call__(self, input_ids=None, past_key_values=None, use_cache=False, **kw):
        c = self.config
        H, KV = c.num_attention_heads, c.num_key_value_heads
        d = getattr(c, "head_dim", None) or c.hidden_size // H
        ids = input_ids.a[0]
        cache = past_key_values
        past = cache.get_seq_length()
        T = len(ids)
        pos = np.arange(past, past + T)
        impl = c._attn_implementation
        # As transformers' _preprocess_mask_arguments: no mask for an implementation the mask
        # interface does not know; sdpa_mask gives None when q_len == kv_len (causal skip).
        if impl in ALL_MASK_ATTENTION_FUNCTIONS._global_mapping:
            mask = None if past == 0 else ALL_MASK_ATTENTION_FUNCTIONS[impl](q=T, kv=past + T)
        else:
            mask = None
        fn = ALL_ATTENTION_FUNCTIONS[impl] if impl != "ignore" else fake_sdpa
        for l in range(c.num_hidden_layers):
            if l in getattr(c, "fake_no_attention_layers", []):
                continue
            q = qkv(l, "q", H, ids, pos, d)[None]
            k, v = cache.update(qkv(l, "k", KV, ids, pos, d)[None], qkv(l, "v", KV, ids, pos, d)[None], l)
            fn(self.layers[l], torch.Tensor(q), torch.Tensor(k), torch.Tensor(v), mask, dropout=0.0, scaling=d ** -0.5)
        self.forwards += 1
        return None


class AutoModelForCausalLM:
    @staticmethod
    def from_pretrained(path, dtype=None, attn_implementation=None, **kw):
        cfg = AutoConfig.from_pretrained(path)
        if attn_implementation not in ["eager"] + list(ALL_ATTENTION_FUNCTIONS.keys()):
            raise ValueError(f"attn_implementation {attn_implementation} is not registered")
        cfg._attn_implementation = "ignore" if getattr(cfg, "fake_ignore_attn", False) else attn_implementation
        return FakeLM(cfg)


class AutoTokenizer:
    pass
