#!/usr/bin/env python3
"""Trains the studio's bundled default model on one GPU, from scratch, within a wall-clock budget.

Input (made by tools/corpus/gather.py, carried to the device): DATA/corpus.txt.xz (documents
separated by 0x1E) and DATA/heldout/*.txt (never trained on).

Steps: a byte-level BPE tokenizer (tokenizers library, GPT-2 style ByteLevel pre-tokenizer and
decoder, <|endoftext|> special token) trained on a sample of the corpus; the corpus tokenized with
<|endoftext|> after each document; a LlamaForCausalLM (RoPE, RMSNorm, SwiGLU, GQA, tied
embeddings) trained on random windows of SEQ tokens with bf16 autocast, AdamW, linear warmup then
cosine decay over the time budget (the learning rate follows elapsed time, so the schedule ends
when the budget does, whatever the step rate); then the model is saved in float16 with
save_pretrained, reloaded with transformers and evaluated in float32 on the held-out documents.

Evaluation ("held-out loss at context C"): each held-out document of at least 8191 tokens is cut to
its first 8191 tokens; those are scored in windows of C tokens, each window beginning with
<|endoftext|> as a BOS token and scoring C-1 document tokens, so every C scores the same tokens
and only the context each token sees differs. Bits per byte = total NLL / ln 2 / total UTF-8 bytes
of the scored tokens. The short English document (prose-2k) is also scored on its own, whole.

Output under OUT: model/ (config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
generation_config.json), metrics.json, loss_curve.csv, and with --pack the model folder as a tar
split into pieces of at most 15 MiB (model.tar.partNN) for the device's 16 MiB file limit.

Usage (on the device):
  python3 tools/train-default-model/train.py --data .device-train --out $OUT --deadline-s 500 --pack
  --smoke: a tiny run (small corpus sample, a few steps of eager and compiled training) that checks
  everything end to end and reports step times.
"""
from __future__ import annotations

import argparse
import csv
import glob
import io
import json
import math
import os
import random
import subprocess
import sys
import tarfile
import time

T0 = time.time()


def log(msg: str) -> None:
    print(f'[{time.time() - T0:7.1f}s] {msg}', flush=True)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description='Train the bundled default model.')
    ap.add_argument('--data', default='.device-train')
    ap.add_argument('--out', required=True)
    ap.add_argument('--vocab', type=int, default=8192)
    ap.add_argument('--tokenizer-sample-mb', type=float, default=24.0, help='corpus MB the BPE is trained on')
    ap.add_argument('--hidden', type=int, default=256)
    ap.add_argument('--layers', type=int, default=8)
    ap.add_argument('--heads', type=int, default=8)
    ap.add_argument('--kv-heads', type=int, default=4)
    ap.add_argument('--intermediate', type=int, default=704)
    ap.add_argument('--rope-theta', type=float, default=100000.0)
    ap.add_argument('--seq', type=int, default=8192)
    ap.add_argument('--batch', type=int, default=16, help='sequences per step')
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--min-lr-frac', type=float, default=0.1)
    ap.add_argument('--warmup-steps', type=int, default=100)
    ap.add_argument('--weight-decay', type=float, default=0.1)
    ap.add_argument('--deadline-s', type=float, default=500.0, help='seconds after start at which training stops')
    ap.add_argument('--max-steps', type=int, default=0, help='0: until the deadline')
    ap.add_argument('--compile', type=int, default=1)
    ap.add_argument('--log-every', type=int, default=25)
    ap.add_argument('--val-every', type=int, default=100)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--pack', action='store_true', help='tar + split the model folder for the trip back')
    ap.add_argument('--smoke', action='store_true')
    # Second generation (long context): warm start, phases of growing length, synthetic tasks.
    ap.add_argument('--init-from', default='', help='a model folder (config.json, model.safetensors, tokenizer.json) to start from; its tokenizer is kept')
    ap.add_argument('--max-positions', type=int, default=8192, help="config.json's max_position_embeddings")
    ap.add_argument('--phases', default='', help='SEQ:FRACTION,... of the training time, e.g. 8192:0.5,32768:0.4,65536:0.1 (overrides --seq; --batch-tokens per step)')
    ap.add_argument('--batch-tokens', type=int, default=131072, help='tokens per step when --phases is given')
    ap.add_argument('--synthetic-frac', type=float, default=0.0, help='share of sequences that are synthetic long-range tasks (synthetic.py)')
    ap.add_argument('--answer-weight', type=float, default=5.0, help="loss weight of a synthetic task's answer tokens")
    ap.add_argument('--prose-frac', type=float, default=0.0, help='share of corpus windows drawn from the prose families only')
    ap.add_argument('--prose-families', default='nodejs-docs,debian-doc,info')
    ap.add_argument('--passkey-lengths', default='1024,4096', help='lengths of the final passkey check (the benchmark template, depths 0..1)')
    ap.add_argument('--eval-contexts', default='1024,4096,8192')
    return ap.parse_args()


def parse_phases(args) -> list[tuple[int, float]]:
    """[(seq, cumulative end fraction)]: which sequence length trains at each point of the time budget."""
    if not args.phases:
        return [(args.seq, 1.0)]
    out, acc = [], 0.0
    for part in args.phases.split(','):
        seq, frac = part.split(':')
        acc += float(frac)
        out.append((int(seq), acc))
    out[-1] = (out[-1][0], max(1.0, acc))
    return out


# ------------------------------------------------------------------------------------------------
# data

def load_corpus(data: str, limit_mb: float | None) -> list[str]:
    path = os.path.join(data, 'corpus.txt.xz')
    if not os.path.exists(path):
        sys.exit(f'{path} is missing: run python3 tools/corpus/gather.py --out {data} first and carry {data}')
    try:  # xz with threads decompresses the multi-block file in parallel
        raw = subprocess.run(['xz', '-dc', '-T0', path], check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        import lzma
        raw = lzma.open(path).read()
    text = raw.decode('utf-8')
    docs = [d for d in text.split('\x1e') if d.strip()]
    if limit_mb:
        rng = random.Random(0)
        rng.shuffle(docs)
        out, size = [], 0
        for d in docs:
            if size > limit_mb * 1e6:
                break
            out.append(d[:2_000_000])
            size += len(out[-1])
        docs = out
    return docs


def load_heldout(data: str) -> dict[str, str]:
    files = sorted(glob.glob(os.path.join(data, 'heldout', '*.txt')))
    if not files:
        sys.exit(f'no held-out documents in {data}/heldout: run tools/corpus/gather.py')
    return {os.path.basename(f)[:-4]: open(f, encoding='utf-8').read() for f in files}


def train_tokenizer(docs: list[str], vocab: int, sample_mb: float):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    # Plain GPT-2 ByteLevel (its own regex, no prefix space): the studio's TS tokenizer reads it.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, min_frequency=2, special_tokens=['<|endoftext|>'],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    rng = random.Random(1)
    order = list(range(len(docs)))
    rng.shuffle(order)
    sample, size = [], 0
    for i in order:  # a shuffled sample, each document cut so that none dominates the merges
        piece = docs[i][:300_000]
        sample.append(piece)
        size += len(piece)
        if size > sample_mb * 1e6:
            break
    tok.train_from_iterator(sample, trainer=trainer, length=len(sample))
    return tok


def byte_lengths(tok) -> list[int]:
    """UTF-8 bytes each token id stands for (ByteLevel maps every byte to one character)."""
    from tokenizers import pre_tokenizers  # noqa: F401  (alphabet is the 256 byte characters)
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    n = 0
    chars = set(chr(b) for b in bs)
    for b in range(256):  # GPT-2's bytes_to_unicode: the other bytes map to 256 + n
        if b not in bs:
            chars.add(chr(256 + n))
            n += 1
    vocab = tok.get_vocab()
    lengths = [0] * tok.get_vocab_size()
    for t, i in vocab.items():
        lengths[i] = len(t) if all(ch in chars for ch in t) else 0  # special tokens: 0 bytes
    return lengths


def encode_all(tok, docs: list[str], eos: int):
    import numpy as np
    # Long documents are cut at line ends into pieces of about 256 KB so that encode_batch's
    # threads share the work evenly (a 20 MB document would otherwise keep one thread busy).
    pieces, ends = [], []
    for d in docs:
        s = 0
        while s < len(d):
            e = len(d) if len(d) - s <= 262_144 else (d.rfind('\n', s, s + 262_144) + 1 or s + 262_144)
            if e <= s:
                e = s + 262_144
            pieces.append(d[s:e])
            s = e
        ends.append(len(pieces))
    ids = [np.asarray(enc.ids, dtype=np.int32) for i in range(0, len(pieces), 4096)
           for enc in tok.encode_batch(pieces[i:i + 4096], add_special_tokens=False)]
    chunks, start = [], 0
    eos_arr = np.asarray([eos], dtype=np.int32)
    doc_ends, n = [], 0  # token offset after each document's <|endoftext|>
    for end in ends:
        chunks.extend(ids[start:end])
        chunks.append(eos_arr)
        n += sum(len(c) for c in ids[start:end]) + 1
        doc_ends.append(n)
        start = end
    return np.concatenate(chunks), doc_ends


def load_families(data: str, n_docs: int) -> list[str] | None:
    """Each document's family from gather.py's manifest (same order as corpus.txt.xz), or None."""
    path = os.path.join(data, 'manifest.tsv')
    if not os.path.exists(path):
        return None
    fams = [line.split('\t')[0] for line in open(path, encoding='utf-8').read().splitlines()[1:] if line]
    return fams if len(fams) == n_docs else None


# ------------------------------------------------------------------------------------------------
# model

def make_model(args, vocab: int, eos: int):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    cfg = LlamaConfig(
        vocab_size=vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        head_dim=args.hidden // args.heads, hidden_act='silu', max_position_embeddings=args.max_positions,
        rms_norm_eps=1e-5, rope_theta=args.rope_theta, tie_word_embeddings=True,
        attention_bias=False, mlp_bias=False, bos_token_id=eos, eos_token_id=eos, pad_token_id=None,
        initializer_range=0.02, use_cache=False)
    cfg._attn_implementation = 'sdpa'  # FlashAttention through torch's scaled_dot_product_attention
    torch.manual_seed(args.seed)
    if args.init_from:
        # Same shape, new RoPE base and context: RoPE's inverse frequencies are not weights, so
        # the warm-started model simply sees positions on the new base (the usual extension).
        src = LlamaForCausalLM.from_pretrained(args.init_from, dtype=torch.float32)
        for k in ('hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'vocab_size'):
            if getattr(src.config, k) != getattr(cfg, k):
                sys.exit(f'--init-from {args.init_from}: {k} is {getattr(src.config, k)}, the arguments give {getattr(cfg, k)}')
        model = LlamaForCausalLM(cfg)
        missing, unexpected = model.load_state_dict(src.state_dict(), strict=False)
        bad = [k for k in missing if 'rotary' not in k] + [k for k in unexpected if 'rotary' not in k]
        if bad:
            sys.exit(f'--init-from {args.init_from}: weights that do not fit: {bad[:5]}')
        model.tie_weights()
        log(f'warm start from {args.init_from} (RoPE theta {src.config.rope_parameters.get("rope_theta") if getattr(src.config, "rope_parameters", None) else "?"} -> {args.rope_theta})')
        return model
    model = LlamaForCausalLM(cfg)
    return model


def use_flash_for_training(model) -> None:
    """Training attention through torch's FlashAttention kernel, always: q, k and v in bf16 (RoPE
    leaves them float32 under autocast, which would send SDPA to a slower kernel), causal by flag,
    no mask materialised (at 64K tokens a boolean mask alone is 4 GiB). The sdpa_kernel guard
    makes a fallback an error instead of a silent slowdown. Training windows have no padding."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from transformers import AttentionInterface

    def flash(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            out = F.scaled_dot_product_attention(query.bfloat16(), key.bfloat16(), value.bfloat16(),
                                                 is_causal=True, scale=scaling, enable_gqa=True)
        return out.transpose(1, 2).contiguous(), None

    AttentionInterface.register('train_causal', flash)
    try:
        from transformers import AttentionMaskInterface
        AttentionMaskInterface.register('train_causal', lambda *a, **k: None)
    except ImportError:
        pass
    model.set_attn_implementation('train_causal')


def lr_at(step: int, frac_time: float, args) -> float:
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    f = min(1.0, max(0.0, frac_time))
    return args.lr * (args.min_lr_frac + (1 - args.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * f)))


def batch_loss(model, tokens, starts, seq: int, win=None, weight=None):
    """Mean next-token loss over windows of the stream (or over `win`, (B, seq+1) ids); with
    `weight` ((B, seq) per target token) the weighted mean."""
    import torch
    import torch.nn.functional as F
    if win is None:
        idx = starts[:, None] + torch.arange(seq + 1, device=tokens.device)[None, :]
        win = tokens[idx].long()
    x, y = win[:, :-1], win[:, 1:]
    with torch.autocast('cuda', dtype=torch.bfloat16):
        logits = model(input_ids=x).logits
    if weight is None:
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
    nll = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1), reduction='none')
    w = weight.reshape(-1)
    return (nll * w).sum() / w.sum()


def mixed_batch(tokens, prose, syn, batch: int, seq: int, args, gen, device):
    """(B, seq+1) ids and (B, seq) loss weights: corpus windows (some from the prose stream) and
    synthetic long-range tasks, whose answers weigh args.answer_weight."""
    import numpy as np
    import torch
    n_syn = sum(1 for _ in range(batch) if random.random() < args.synthetic_frac) if syn else 0
    n_corpus = batch - n_syn
    rows, weights = [], []
    if n_corpus:
        n_prose = sum(1 for _ in range(n_corpus) if random.random() < args.prose_frac) if prose is not None and len(prose) > seq + 2 else 0
        for stream, n in ((tokens, n_corpus - n_prose), (prose, n_prose)):
            if n:
                starts = torch.randint(0, len(stream) - seq - 1, (n,), device=device, generator=gen)
                idx = starts[:, None] + torch.arange(seq + 1, device=device)[None, :]
                rows.append(stream[idx].long())
                weights.append(torch.ones(n, seq, device=device))
    if n_syn:
        ids, masks = zip(*(syn.sequence(seq + 1) for _ in range(n_syn)))
        rows.append(torch.from_numpy(np.stack(ids)).to(device).long())
        m = torch.from_numpy(np.stack(masks)[:, 1:].astype(np.float32)).to(device)
        weights.append(1.0 + (args.answer_weight - 1.0) * m)
    return torch.cat(rows), torch.cat(weights), n_syn


# ------------------------------------------------------------------------------------------------
# evaluation

def score_windows(model, ids: list[int], ctx: int, eos: int, blen: list[int], device):
    """Sum of NLL (nats), tokens and bytes over `ids` scored in windows of ctx tokens (BOS + ctx-1),
    plus the NLL at each position of each window."""
    import torch
    import torch.nn.functional as F
    nll_sum, ntok, nbytes, per_pos = 0.0, 0, 0, []
    for s in range(0, len(ids), ctx - 1):
        tgt = ids[s:s + ctx - 1]
        inp = torch.tensor([[eos] + tgt[:-1]], device=device)
        with torch.no_grad():
            logits = model(input_ids=inp).logits.float()[0]
        nll = F.cross_entropy(logits, torch.tensor(tgt, device=device), reduction='none')
        nll_sum += nll.sum().item()
        ntok += len(tgt)
        nbytes += sum(blen[t] for t in tgt)
        per_pos.append(nll.cpu())
    return nll_sum, ntok, nbytes, per_pos


def evaluate(model, tok, heldout: dict[str, str], eos: int, blen: list[int], device, contexts=(1024, 4096, 8192)):
    import torch
    long_len = 8191
    enc = {k: tok.encode(v, add_special_tokens=False).ids for k, v in heldout.items()}
    long_docs = {k: v[:long_len] for k, v in enc.items() if len(v) >= long_len}
    res: dict = {'long_documents': {k: len(enc[k]) for k in long_docs}, 'by_context': {}, 'by_document': {}}
    pos_curve = None
    for ctx in contexts:
        tot = [0.0, 0, 0]
        for k, ids in long_docs.items():
            nll, n, b, per_pos = score_windows(model, ids, ctx, eos, blen, device)
            tot[0] += nll; tot[1] += n; tot[2] += b
            res['by_document'].setdefault(k, {})[str(ctx)] = {
                'loss': nll / n, 'bits_per_byte': nll / math.log(2) / b, 'tokens': n, 'bytes': b}
            if ctx == contexts[-1]:
                p = per_pos[0]
                pos_curve = p.clone() if pos_curve is None else pos_curve + p
        res['by_context'][str(ctx)] = {'loss': tot[0] / tot[1], 'bits_per_byte': tot[0] / math.log(2) / tot[2],
                                       'tokens': tot[1], 'bytes': tot[2]}
    if pos_curve is not None:  # mean NLL by position at the longest context, in buckets of 512
        pc = (pos_curve / len(long_docs)).tolist()
        res['loss_by_position_8k'] = [{'from': i, 'to': min(i + 512, len(pc)), 'loss': sum(pc[i:i + 512]) / len(pc[i:i + 512])}
                                      for i in range(0, len(pc), 512)]
    for k, ids in enc.items():  # each held-out document whole (up to 8191 tokens) at one context
        ids = ids[:long_len]
        nll, n, b, _ = score_windows(model, ids, len(ids) + 1, eos, blen, device)
        res['by_document'].setdefault(k, {})['whole'] = {'loss': nll / n, 'bits_per_byte': nll / math.log(2) / b,
                                                         'tokens': n, 'bytes': b}
    return res


def passkey_suite(model, tok, device, lengths: list[int], depths=(0.0, 0.25, 0.5, 0.75, 1.0), seeds=2) -> dict:
    """Greedy retrieval on the benchmark template (synthetic.benchmark_prompt) at each length and
    depth, with transformers' KV cache: a quick check here; the studio's `eval --passkey-lengths`
    on the shipped weights is the measure that goes in the model card."""
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from synthetic import benchmark_prompt
    rng = random.Random(11)
    enc = lambda t: tok.encode(t, add_special_tokens=False).ids
    out = {'by_length': {}}
    for n in lengths:
        hits, wrong = 0, []
        for d in depths:
            for _ in range(seeds):
                key = str(rng.randint(10000, 99999))
                ids = benchmark_prompt(enc, n, d, key)
                x = torch.tensor([ids], device=device)
                with torch.no_grad():
                    g = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=len(enc(' ' + key)), do_sample=False, use_cache=True)
                got = tok.decode(g[0, len(ids):].tolist())
                ok = got.strip().startswith(key)
                hits += ok
                if not ok:
                    wrong.append(f'{d}:{got!r}')
        out['by_length'][str(n)] = {'hits': hits, 'cases': len(depths) * seeds, 'wrong': wrong}
    return out


def compare_compile(model, opt, tokens, args, device) -> None:
    """Smoke run only: seconds per training step eager and compiled, and the compile time."""
    import torch

    def steps(f, n):
        times = []
        for _ in range(n):
            starts = torch.randint(0, len(tokens) - args.seq - 1, (args.batch,), device=device)
            t = time.time()
            loss = batch_loss(f, tokens, starts, args.seq)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            loss.item()
            times.append(time.time() - t)
        return times

    eager = steps(model, 6)
    log(f'eager: first {eager[0]:.2f} s, then {sorted(eager[1:])[2]:.3f} s/step '
        f'({args.batch * args.seq / sorted(eager[1:])[2] / 1e3:.0f}K tok/s), peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB')
    comp = steps(torch.compile(model), 6)
    log(f'compiled: first (compile) {comp[0]:.1f} s, then {sorted(comp[1:])[2]:.3f} s/step '
        f'({args.batch * args.seq / sorted(comp[1:])[2] / 1e3:.0f}K tok/s), peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB')


# ------------------------------------------------------------------------------------------------

def main() -> None:
    args = parse_args()
    random.seed(args.seed)  # the batch mix (mixed_batch) draws from it
    os.makedirs(args.out, exist_ok=True)
    import numpy as np
    import torch
    import transformers
    log(f'torch {torch.__version__}, transformers {transformers.__version__}, device {torch.cuda.get_device_name(0)}')
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    device = torch.device('cuda')

    docs = load_corpus(args.data, None)
    families = load_families(args.data, len(docs))
    if args.smoke:  # a small sample, families kept aligned
        keep = sorted(random.Random(0).sample(range(len(docs)), min(len(docs), 120)))
        docs = [docs[i][:400_000] for i in keep]
        families = [families[i] for i in keep] if families else None
    heldout = load_heldout(args.data)
    log(f'corpus: {len(docs)} documents, {sum(map(len, docs)) / 1e6:.1f} M chars; held out: {", ".join(heldout)}')
    if args.init_from:
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(os.path.join(args.init_from, 'tokenizer.json'))
    else:
        tok = train_tokenizer(docs, args.vocab, 4.0 if args.smoke else args.tokenizer_sample_mb)
    eos = tok.token_to_id('<|endoftext|>')
    vocab = tok.get_vocab_size()
    log(f'tokenizer: {vocab} tokens, <|endoftext|> = {eos}')
    tokens_np, doc_ends = encode_all(tok, docs, eos)
    n_chars = sum(map(len, docs))
    log(f'corpus tokens: {len(tokens_np) / 1e6:.2f} M ({n_chars / len(tokens_np):.2f} chars/token)')
    prose = None
    if args.prose_frac > 0:
        if families is None:
            log('no manifest.tsv matching the corpus: --prose-frac ignored')
        else:
            want = set(args.prose_families.split(','))
            spans = [(0 if i == 0 else doc_ends[i - 1], doc_ends[i]) for i, f in enumerate(families) if f in want]
            prose_np = np.concatenate([tokens_np[a:b] for a, b in spans]) if spans else np.zeros(0, np.int32)
            log(f'prose stream ({args.prose_families}): {len(spans)} documents, {len(prose_np) / 1e6:.2f} M tokens, '
                f'{args.prose_frac:.0%} of corpus windows')
            prose = torch.from_numpy(prose_np).to(device)
    del docs
    tokens = torch.from_numpy(tokens_np).to(device)
    blen = byte_lengths(tok)
    syn = None
    if args.synthetic_frac > 0:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from synthetic import Synthesizer
        syn = Synthesizer(lambda t: tok.encode(t, add_special_tokens=False).ids, tokens_np, eos, seed=args.seed)
        log(f'synthetic long-range tasks: {args.synthetic_frac:.0%} of sequences, answers weigh {args.answer_weight}')
    phases = parse_phases(args)
    log(f'phases: {", ".join(f"seq {q} until {f:.0%} of the time" for q, f in phases)}')

    model = make_model(args, vocab, eos).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    use_flash_for_training(model)
    log(f'model: {n_params / 1e6:.2f} M parameters, attention {model.config._attn_implementation}')
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': args.weight_decay},
                             {'params': no_decay, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=True)
    fwd = torch.compile(model) if args.compile else model
    if args.smoke and not args.phases:
        compare_compile(model, opt, tokens, args, device)

    # Validation batch for the loss curve: held-out documents (the long ones) in windows of seq.
    val_ids = []
    for v in heldout.values():
        val_ids += tok.encode(v).ids + [eos]
    val_tokens = torch.tensor(val_ids, dtype=torch.int32, device=device)
    val_seq = min(8192 if args.phases else args.seq, len(val_ids) - 1)
    val_starts = torch.arange(0, max(1, len(val_ids) - val_seq - 1), val_seq, device=device)[:8]

    gen = torch.Generator(device=device)
    gen.manual_seed(args.seed)
    curve = []
    step, seen, t_train = 0, 0, time.time()
    deadline = T0 + args.deadline_s
    acc_loss, acc_n, t_log = 0.0, 0, time.time()
    step_times = []
    curve_seq = phases[0][0]
    model.train()
    while True:
        now = time.time()
        if now >= deadline or (args.max_steps and step >= args.max_steps):
            break
        frac = (now - t_train) / max(1e-9, deadline - t_train)
        lr = lr_at(step, frac, args)
        for g in opt.param_groups:
            g['lr'] = lr
        seq = next(q for q, f in phases if frac < f)
        batch = max(1, args.batch_tokens // seq) if args.phases else args.batch
        ts = time.time()
        win, weight, n_syn = mixed_batch(tokens, prose, syn, batch, seq, args, gen, device)
        loss = batch_loss(fwd, tokens, None, seq, win, weight)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        seen += batch * seq
        acc_loss += loss.item()  # syncs: the step time below is the true one
        acc_n += 1
        step_times.append(time.time() - ts)
        new_phase = step > 1 and seq != curve_seq
        curve_seq = seq
        if step % args.log_every == 0 or step == 1 or new_phase:
            el = time.time() - t_train
            row = {'step': step, 'tokens': seen, 'seconds': round(el, 2), 'seq': seq, 'train_loss': acc_loss / acc_n,
                   'lr': lr, 'grad_norm': float(gnorm), 'val_loss': ''}
            if step % args.val_every == 0 or step == 1:
                model.eval()
                with torch.no_grad():
                    row['val_loss'] = float(batch_loss(model, val_tokens, val_starts, val_seq))  # eager: no recompile for this shape
                model.train()
            curve.append(row)
            rate = batch * seq * acc_n / max(1e-9, time.time() - t_log)
            log(f'step {step} seq {seq} x {batch} loss {row["train_loss"]:.4f} val {row["val_loss"] if row["val_loss"] == "" else round(row["val_loss"], 4)} '
                f'lr {lr:.2e} gnorm {float(gnorm):.2f} {rate / 1e3:.0f}K tok/s '
                f'mem {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB')
            acc_loss, acc_n, t_log = 0.0, 0, time.time()
    train_s = time.time() - t_train
    log(f'trained {step} steps, {seen / 1e6:.1f} M tokens in {train_s:.0f} s')

    # Save in float16 with transformers' own format, then reload it as any user would.
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast
    mdir = os.path.join(args.out, 'model')
    model.eval()
    model.config.use_cache = True
    model.generation_config.use_cache = True
    model.set_attn_implementation('sdpa')  # what the saved config says and users load
    model.to(torch.float16).save_pretrained(mdir, safe_serialization=True)
    cfg_path = os.path.join(mdir, 'config.json')
    cfg = json.load(open(cfg_path))
    cfg['torch_dtype'] = 'float16'  # older readers look for this key; newer write "dtype"
    json.dump(cfg, open(cfg_path, 'w'), indent=2)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token='<|endoftext|>', eos_token='<|endoftext|>',
                                   unk_token=None, model_max_length=args.max_positions)
    fast.save_pretrained(mdir)
    tok.save(os.path.join(mdir, 'tokenizer.json'))  # the tokenizers library's own serialisation
    if args.pack:  # first, so that a failure in the evaluation below cannot lose the weights
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w') as tf:
            tf.add(mdir, arcname='model')
        data, piece = buf.getvalue(), 15 * 2**20
        for i in range(0, len(data), piece):
            open(os.path.join(args.out, f'model.tar.part{i // piece:02d}'), 'wb').write(data[i:i + piece])
        log(f'packed the model: {len(data) / 2**20:.1f} MiB in {(len(data) + piece - 1) // piece} pieces')
    with open(os.path.join(args.out, 'loss_curve.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=['step', 'tokens', 'seconds', 'seq', 'train_loss', 'val_loss', 'lr', 'grad_norm'])
        w.writeheader()
        for r in curve:
            w.writerow(r)
    del model, fwd, opt
    torch.cuda.empty_cache()
    re_model = LlamaForCausalLM.from_pretrained(mdir, dtype=torch.float32, attn_implementation='sdpa').to(device).eval()
    log(f'reloaded with transformers: {sum(p.numel() for p in re_model.parameters()) / 1e6:.2f} M parameters')

    ev = evaluate(re_model, tok, heldout, eos, blen, device, (256, 512) if args.smoke else tuple(int(c) for c in args.eval_contexts.split(',')))
    for c, r in ev['by_context'].items():
        log(f'held-out at context {c}: loss {r["loss"]:.4f} nats/token, {r["bits_per_byte"]:.4f} bits/byte')
    for k, r in ev['by_document'].items():
        log(f'  {k}: whole {r["whole"]["bits_per_byte"]:.4f} bits/byte over {r["whole"]["tokens"]} tokens')
    re_model.half()  # the shipped precision; also what makes 64K prefills quick
    try:
        pk = passkey_suite(re_model, tok, device, [int(n) for n in args.passkey_lengths.split(',')])
    except Exception as e:  # the weights are packed already; report and go on to the metrics
        log(f'passkey check failed: {type(e).__name__}: {e}')
        pk = {'by_length': {}, 'error': f'{type(e).__name__}: {e}'}
    for n, r in pk['by_length'].items():
        log(f'passkey at {n} tokens: {r["hits"]}/{r["cases"]} (depths 0..1; {r["wrong"][:3]})')
    prompt = 'The quick brown fox'
    x = torch.tensor([[eos] + tok.encode(prompt).ids], device=device)
    with torch.no_grad():
        out = re_model.generate(x, max_new_tokens=60, do_sample=False)
    sample = tok.decode(out[0].tolist()[1:])
    log(f'greedy sample: {sample!r}')

    metrics = {
        'parameters': n_params, 'vocab_size': vocab, 'config': {k: v for k, v in vars(args).items()},
        'steps': step, 'tokens_seen': seen, 'train_seconds': train_s, 'corpus_tokens': int(len(tokens_np)),
        'corpus_chars_per_token': n_chars / len(tokens_np), 'epochs': seen / len(tokens_np),
        'final_train_loss': curve[-1]['train_loss'] if curve else None,
        'step_seconds_median': sorted(step_times)[len(step_times) // 2] if step_times else None,
        'first_step_seconds': step_times[0] if step_times else None,
        'peak_memory_gib': torch.cuda.max_memory_allocated() / 2**30,
        'heldout': ev, 'passkey': pk, 'greedy_sample': sample,
        'torch': torch.__version__, 'transformers': transformers.__version__,
        'device': torch.cuda.get_device_name(0), 'total_seconds': time.time() - T0,
    }
    json.dump(metrics, open(os.path.join(args.out, 'metrics.json'), 'w'), indent=2)
    if args.pack:
        import shutil
        shutil.rmtree(mdir)  # its files come back in the tar pieces only (at most 8 files return)
    log(f'done in {time.time() - T0:.0f} s')


if __name__ == '__main__':
    main()
