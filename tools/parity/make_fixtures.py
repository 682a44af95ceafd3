"""Parity fixtures: small random-initialised Hugging Face checkpoints of every family the studio
loads, with transformers' own reference outputs (eager attention, float32, CPU).

Runs on the device (PyTorch + transformers + tokenizers). For each fixture it writes, under
OUT_DIR/<name>/:
  config.json          current transformers keys (rope_parameters)
  config.legacy.json   the same model with the older keys (rope_theta, rope_scaling)
  model.safetensors    weights (F32, F16 or BF16 as listed below)
  tokenizer.json       a tokenizer of the family's style, trained here with `tokenizers`
  text.txt             the text the reference was computed on
  reference.safetensors  input_ids (I32, [S], S = min(64, tokens of text.txt)), logits (F32, [S, vocab]),
                         attn.<layer> (F32, [heads, S, S]) softmax probabilities,
                         tok.ids (I32) ids of TOKENIZER_TEXT with special tokens
Usage: python make_fixtures.py OUT_DIR
"""
import json, os, sys, glob
import torch
import transformers
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, normalizers, processors, trainers, Regex

OUT = sys.argv[1]
torch.manual_seed(0)
print("torch", torch.__version__, "transformers", transformers.__version__, flush=True)

MODEL_TEXT = ("The quick brown fox jumps over the lazy dog. It's 2024, and we've 3 tests: "
              "attention sinks, local windows and column stripes. Ünïcödé café, 日本語, emoji 🙂!\n"
              "def f(x):\n    return x ** 2  # squares\n")
TOKENIZER_TEXT = (MODEL_TEXT + "  double  spaces\tand\ttabs\n\n\nnewlines, numbers 1234567 and 3.14159, "
                  "CAPS'LL and I'M, URLs https://example.org/a_b?c=d, ￼ odd unicode 𝔘𝔫𝔦 ⅷ \u00a0nbsp")

def training_text():
    # Python's own standard library sources: always present on the device, PSF licence.
    files = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))[:120]
    return [open(f, encoding="utf-8", errors="ignore").read() for f in files] + [TOKENIZER_TEXT] * 3

LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

def make_tokenizer(style, vocab):
    if style == "llama2":
        tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
        specials = ["<unk>", "<s>", "</s>"]
        byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
        trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=specials + byte_tokens, show_progress=False)
        tok.train_from_iterator(training_text(), trainer)
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))])
        return tok
    tok = Tokenizer(models.BPE(ignore_merges=(style == "llama3")))
    if style == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        specials = ["<|endoftext|>"]
    else:
        pattern = LLAMA3_SPLIT if style == "llama3" else QWEN_SPLIT
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
                                                     pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
        if style == "qwen":
            tok.normalizer = normalizers.NFC()
        specials = ["<|begin_of_text|>", "<|end_of_text|>"] if style == "llama3" else ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(training_text(), trainer)
    if style == "llama3":
        bos = tok.token_to_id("<|begin_of_text|>")
        tok.post_processor = processors.Sequence([processors.ByteLevel(trim_offsets=False),
                                                  processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B", special_tokens=[("<|begin_of_text|>", bos)])])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok

V = 640
MAX_TOKENS = 64
COMMON = dict(vocab_size=V, hidden_size=64, intermediate_size=112, num_hidden_layers=2, num_attention_heads=4,
              max_position_embeddings=256, initializer_range=0.15, rms_norm_eps=1e-5)
FIXTURES = [
    # name, transformers class names, tokenizer style, dtype, config kwargs
    ("llama2", "LlamaConfig", "LlamaForCausalLM", "llama2", torch.float32,
     dict(COMMON, num_key_value_heads=4, rope_theta=10000.0, tie_word_embeddings=False)),
    ("llama3", "LlamaConfig", "LlamaForCausalLM", "llama3", torch.float32,
     dict(COMMON, num_key_value_heads=2, rope_theta=500000.0, tie_word_embeddings=True,
          rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=64))),
    ("mistral", "MistralConfig", "MistralForCausalLM", "llama2", torch.float16,
     dict(COMMON, num_key_value_heads=2, rope_theta=1000000.0, sliding_window=None, tie_word_embeddings=False)),
    ("qwen2", "Qwen2Config", "Qwen2ForCausalLM", "qwen", torch.float32,
     dict(COMMON, num_key_value_heads=2, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False)),
    ("qwen3", "Qwen3Config", "Qwen3ForCausalLM", "qwen", torch.bfloat16,
     dict(COMMON, num_key_value_heads=2, head_dim=24, rope_theta=1000000.0, tie_word_embeddings=False, use_sliding_window=False)),
    ("gpt2", "GPT2Config", "GPT2LMHeadModel", "gpt2", torch.float32,
     dict(vocab_size=V, n_embd=64, n_layer=2, n_head=4, n_positions=256, initializer_range=0.15, activation_function="gelu_new")),
]

def randomise_non_matrix_params(model):
    # HF initialises biases to 0 and norms to 1: randomise them so a mis-mapped bias or norm shows.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.2 * torch.randn_like(p))

def split_styles(cfg_dict):
    """(current, legacy) config dicts from what save_pretrained wrote."""
    d = dict(cfg_dict)
    rp = d.pop("rope_parameters", None)
    theta = d.pop("rope_theta", None)
    scaling = d.pop("rope_scaling", None)
    if rp is None and theta is None:
        return d, d  # GPT-2: no rotary positions
    if rp is None:
        rp = dict(scaling or {"rope_type": "default"})
        rp.setdefault("rope_type", rp.pop("type", "default"))
        rp["rope_theta"] = theta
    if theta is None:
        theta = rp["rope_theta"]
    legacy_scaling = None if rp.get("rope_type", "default") == "default" else {k: v for k, v in rp.items() if k != "rope_theta"}
    current = dict(d, rope_parameters=rp)
    legacy = dict(d, rope_theta=theta, rope_scaling=legacy_scaling)
    return current, legacy

os.makedirs(OUT, exist_ok=True)
for name, cfg_cls, model_cls, tok_style, dtype, kw in FIXTURES:
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    tok = make_tokenizer(tok_style, V)
    assert tok.get_vocab_size() <= V, (name, tok.get_vocab_size())
    tok.save(os.path.join(folder, "tokenizer.json"))
    cfg = getattr(transformers, cfg_cls)(**kw)
    model = getattr(transformers, model_cls)(cfg)
    randomise_non_matrix_params(model)
    model = model.to(dtype)
    model.save_pretrained(folder, safe_serialization=True)
    # Reference in float32 from the stored (possibly rounded) weights, eager attention.
    ref_model = getattr(transformers, model_cls).from_pretrained(folder, torch_dtype=torch.float32, attn_implementation="eager").eval()
    with open(os.path.join(folder, "config.json")) as f:
        saved = json.load(f)
    current, legacy = split_styles(saved)
    json.dump(current, open(os.path.join(folder, "config.json"), "w"), indent=2)
    json.dump(legacy, open(os.path.join(folder, "config.legacy.json"), "w"), indent=2)
    # Reload from the rewritten current-style config to prove transformers reads it identically.
    # The committed references keep the first MAX_TOKENS positions (tests run with --max-tokens
    # MAX_TOKENS); causal attention makes a prefix's outputs those of the full text's prefix.
    ids = tok.encode(MODEL_TEXT).ids[:MAX_TOKENS]
    tok_ids = tok.encode(TOKENIZER_TEXT).ids
    if tok.decode(tok.encode(TOKENIZER_TEXT, add_special_tokens=False).ids) != TOKENIZER_TEXT:
        print(name, "note: decode(encode(text)) differs from the text for this tokenizer", flush=True)
    with torch.no_grad():
        out = ref_model(torch.tensor([ids]), output_attentions=True)
    tensors = {"input_ids": torch.tensor(ids, dtype=torch.int32), "logits": out.logits[0].float().contiguous(),
               "tok.ids": torch.tensor(tok_ids, dtype=torch.int32)}
    for i, a in enumerate(out.attentions):
        tensors[f"attn.{i}"] = a[0].float().contiguous()
    save_file(tensors, os.path.join(folder, "reference.safetensors"))
    open(os.path.join(folder, "text.txt"), "w").write(MODEL_TEXT)
    open(os.path.join(folder, "tokenizer-text.txt"), "w").write(TOKENIZER_TEXT)
    for f in os.listdir(folder):
        if f not in ("config.json", "config.legacy.json", "model.safetensors", "tokenizer.json", "reference.safetensors", "text.txt", "tokenizer-text.txt"):
            os.remove(os.path.join(folder, f))
    print(name, "S", len(ids), "vocab", tok.get_vocab_size(), "dtype", dtype, "files", sorted(os.listdir(folder)), flush=True)
print("versions", json.dumps({"torch": torch.__version__, "transformers": transformers.__version__}))
