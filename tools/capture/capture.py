#!/usr/bin/env python3
"""Capture post-RoPE q, k and v of a Hugging Face causal LM into the studio's capture format.

  python3 tools/capture/capture.py --model DIR --text FILE --out FILE.safetensors
      [--max-tokens N] [--layers all|0,3,5-7] [--chunk 4096] [--dtype auto|bf16|fp16|fp32]
      [--device auto|cuda|cpu] [--max-bytes 64G] [--ids FILE] [--no-special-tokens] [--no-v]

The file is what `sa-studio capture` writes (input_ids I32 [S]; per layer q.<l> F32 [heads, S, d],
k.<l> and v.<l> F32 [kv_heads, S, d]) plus the model's identity, the parameters and the text in
__metadata__. See README.md in this folder for how it works and its limits.
Exit status: 0 written; 2 bad input or refused (nothing written); 1 the run failed.
"""
from __future__ import annotations

import os

# Local files only: never reach the Hub (set before transformers / huggingface_hub are imported).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import argparse
import datetime
import json
import platform
import resource
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from plan import (CaptureError, LayerShape, capture_specs, check_ids_in_vocab, check_size, data_bytes,  # noqa: E402
                  format_layers, human, parse_bytes, parse_layers, plan_chunks, read_ids_file, read_text,
                  text_metadata)
from recorder import HookError, Probe, Recorder, StopForward  # noqa: E402
from safetensors_io import StreamingWriter, header_json, layout, padded  # noqa: E402

ATTN_NAME = "sa_capture"  # the name registered in transformers' attention and mask interfaces
PROBE_TOKENS = 16
DEFAULT_MAX_BYTES = "64G"


def log(msg: str) -> None:
    print(f"capture: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# arguments


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="capture.py",
        description="Capture post-RoPE q, k and v of chosen layers of a Hugging Face causal LM into one safetensors "
                    "file in the format of `sa-studio capture` (plus model identity, token ids and text in __metadata__).",
        epilog="Exit status: 0 written, 2 bad input or refused before running, 1 the run failed. "
               "Local folders only (HF_HUB_OFFLINE=1). Progress goes to stderr, one JSON summary line to stdout.")
    p.add_argument("--model", required=True, help="checkpoint folder (config.json, weights, tokenizer.json)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="UTF-8 text file, tokenized with the folder's tokenizer.json as sa-studio does")
    src.add_argument("--ids", help="token ids instead of a text: .npy (1-D integers), a .json list, or whitespace/comma-separated integers")
    p.add_argument("--out", required=True, help="the .safetensors file to write")
    p.add_argument("--max-tokens", type=int, help="keep only the first N tokens")
    p.add_argument("--layers", default="all", help="all (default), or a list such as 0,3,5-7 (negative numbers count from the end)")
    p.add_argument("--chunk", type=int, default=4096, help="tokens per forward pass (default 4096); each pass attends to the cached keys of the earlier ones")
    p.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"],
                   help="compute dtype; auto (default): the checkpoint's dtype on CUDA, fp32 on CPU. Captured values are stored as F32 either way")
    p.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"],
                   help="auto (default): device_map='auto' over the GPUs (accelerate may offload to CPU), CPU without CUDA; "
                        "cuda: the same but refuse CPU/disk offload; cpu: everything on the CPU")
    p.add_argument("--max-bytes", default=DEFAULT_MAX_BYTES, help=f"refuse a capture file larger than this (default {DEFAULT_MAX_BYTES}; 0 = no limit)")
    p.add_argument("--no-special-tokens", action="store_true",
                   help="encode without the tokenizer's post-processor (no BOS even where tokenizer.json adds one); the default matches sa-studio")
    p.add_argument("--no-v", action="store_true", help="write q and k only")
    p.add_argument("--no-text", action="store_true", help="keep the text out of __metadata__ (its sha256 and length stay)")
    p.add_argument("--allow-beyond-max-positions", action="store_true", help="allow more tokens than config.json's max_position_embeddings")
    p.add_argument("--trust-remote-code", action="store_true", help="let transformers run modeling code from the model folder")
    return p


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    if args.max_tokens is not None and args.max_tokens < 1:
        raise CaptureError(f"--max-tokens must be a positive integer, got {args.max_tokens}")
    if args.chunk < 1:
        raise CaptureError(f"--chunk must be a positive integer, got {args.chunk}")
    args.max_bytes_n = parse_bytes(args.max_bytes)
    if not os.path.isdir(args.model):
        raise CaptureError(f"--model {args.model}: no such folder (local checkpoint folders only; nothing is downloaded)")
    if not os.path.isfile(os.path.join(args.model, "config.json")):
        raise CaptureError(f"--model {args.model}: no config.json in the folder")
    if os.path.isdir(args.out):
        raise CaptureError(f"--out {args.out} is a folder; give a file name such as {os.path.join(args.out, 'capture.safetensors')}")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        raise CaptureError(f"--out {args.out}: folder {out_dir} does not exist")
    # Read the inputs now so a bad file is reported before torch is even imported.
    if args.text is not None:
        args.text_value = read_text(args.text)
        args.ids_value = None
    else:
        args.text_value = None
        args.ids_value = read_ids_file(args.ids)
    return args


# ---------------------------------------------------------------------------------------------
# tokens


def tokenize(model_dir: str, text: str, special: bool = True) -> Tuple[List[int], str]:
    """Ids of `text` as `sa-studio capture` makes them: the folder's tokenizer.json with its
    post-processor (addSpecialTokens true: a BOS only where tokenizer.json's post_processor adds
    one; the bundled default model's has none). Without tokenizer.json, AutoTokenizer."""
    tj = os.path.join(model_dir, "tokenizer.json")
    if os.path.isfile(tj):
        try:
            import tokenizers
        except ImportError as e:
            raise CaptureError(f"the tokenizers package is missing ({e}); it comes with transformers")
        tok = tokenizers.Tokenizer.from_file(tj)
        ids = tok.encode(text, add_special_tokens=special).ids
        return list(ids), f"tokenizer.json (tokenizers {tokenizers.__version__}), special tokens {'as its post-processor adds them' if special else 'off'}"
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    log("no tokenizer.json: using AutoTokenizer, whose ids sa-studio cannot reproduce (it needs tokenizer.json)")
    return list(tok(text, add_special_tokens=special)["input_ids"]), f"AutoTokenizer ({type(tok).__name__}), special tokens {'on' if special else 'off'}"


# ---------------------------------------------------------------------------------------------
# the attention hook


_ACTIVE: Dict[str, object] = {"recorder": None}


def install_capture_attention() -> None:
    """Registers ATTN_NAME in transformers' attention interface (the recording function, which then
    runs transformers' own sdpa attention so the forward pass is unchanged) and in the mask
    interface (sdpa's mask builder: without it transformers builds no mask for an unknown
    implementation, and a chunk after the first would get sdpa's top-left causal mask)."""
    from transformers import AttentionInterface
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    try:
        from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface
    except ImportError as e:  # transformers < 4.53
        raise CaptureError(f"this transformers ({e}) has no AttentionMaskInterface; the capture needs transformers 5.x (see README.md)")
    sdpa = ALL_ATTENTION_FUNCTIONS["sdpa"]

    def capture_attention(module, query, key, value, attention_mask, *args, **kwargs):
        rec = _ACTIVE["recorder"]
        if rec is not None and rec.record(getattr(module, "layer_idx", None), query, key, value, attention_mask):
            raise StopForward()
        return sdpa(module, query, key, value, attention_mask, *args, **kwargs)

    AttentionInterface.register(ATTN_NAME, capture_attention)
    AttentionMaskInterface.register(ATTN_NAME, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])


def run_forward(model, ids_t, cache, rec, start: int, end: int) -> None:
    rec.begin_chunk(start, end - start)
    _ACTIVE["recorder"] = rec
    try:
        model(input_ids=ids_t[:, start:end], past_key_values=cache, use_cache=True)
    except StopForward:
        pass
    finally:
        _ACTIVE["recorder"] = None


def new_cache(model):
    from transformers import DynamicCache
    try:
        return DynamicCache(config=model.config)
    except TypeError:
        return DynamicCache()


# ---------------------------------------------------------------------------------------------
# model facts


def text_config(cfg):
    get = getattr(cfg, "get_text_config", None)
    return get() if callable(get) else cfg


def config_shapes(cfg) -> Tuple[int, LayerShape]:
    """(num_layers, the usual layer shape) from a config, for the size check before loading."""
    tc = text_config(cfg)
    L = getattr(tc, "num_hidden_layers", None)
    H = getattr(tc, "num_attention_heads", None)
    if not L or not H:
        raise CaptureError("config.json has no num_hidden_layers / num_attention_heads: is this a causal LM?")
    kv = getattr(tc, "num_key_value_heads", None) or H
    d = getattr(tc, "head_dim", None) or tc.hidden_size // H
    return int(L), LayerShape(int(H), int(kv), int(d), int(d))


def config_dtype_name(cfg) -> Optional[str]:
    for attr in ("dtype", "torch_dtype"):
        v = getattr(cfg, attr, None)
        if v is not None:
            return str(v).replace("torch.", "")
    return None


def config_json(cfg) -> str:
    try:
        return json.dumps(json.loads(cfg.to_json_string(use_diff=False)), separators=(",", ":"), sort_keys=True)
    except Exception as e:  # noqa: BLE001 - a config that does not serialise is not worth failing over
        return json.dumps({"error": f"config not serialisable: {e}"})


def versions() -> Dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("torch", "transformers", "accelerate", "safetensors", "tokenizers", "numpy"):
        try:
            mod = __import__(name)
            out[name] = str(getattr(mod, "__version__", "?"))
        except Exception:  # noqa: BLE001 - absent or broken: just not listed
            pass
    return out


def peak_rss_bytes() -> int:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(r) * (1 if sys.platform == "darwin" else 1024)


# ---------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    t0 = time.time()
    try:
        import torch
        import transformers
        from transformers import AutoConfig, AutoModelForCausalLM
    except ImportError as e:
        raise CaptureError(f"needs torch and transformers ({e}); see tools/capture/README.md for the pinned versions")

    cfg = AutoConfig.from_pretrained(args.model, local_files_only=True, trust_remote_code=args.trust_remote_code)
    tc = text_config(cfg)
    num_layers, cfg_shape = config_shapes(cfg)

    # Tokens.
    if args.ids_value is not None:
        ids, tok_how = list(args.ids_value), f"--ids {os.path.basename(args.ids)}"
    else:
        ids, tok_how = tokenize(args.model, args.text_value, special=not args.no_special_tokens)
        if not ids:
            raise CaptureError(f"--text {args.text} gives no tokens")
    tokens_total = len(ids)
    if args.max_tokens is not None:
        ids = ids[:args.max_tokens]
    S = len(ids)
    check_ids_in_vocab(ids, getattr(tc, "vocab_size", None), "--ids" if args.ids else "the tokenizer")
    max_pos = getattr(tc, "max_position_embeddings", None)
    if max_pos and S > max_pos and not args.allow_beyond_max_positions:
        raise CaptureError(f"{S} tokens is more than the model's max_position_embeddings {max_pos}: pass --max-tokens {max_pos} "
                           "(or --allow-beyond-max-positions)")

    chosen = parse_layers(args.layers, num_layers)
    with_v = not args.no_v
    est_layers = chosen if chosen is not None else list(range(num_layers))
    est = data_bytes(S, {l: cfg_shape for l in est_layers}, with_v)
    check_size(est, args.max_bytes_n, args.out)
    chunks = plan_chunks(S, args.chunk)
    log(f"{S} tokens ({tokens_total} in all), layers {format_layers(est_layers)} of {num_layers}, "
        f"{len(chunks)} chunk(s) of {args.chunk}; about {human(est)} to write")

    # Device and dtype.
    cuda = torch.cuda.is_available()
    if args.device == "cuda" and not cuda:
        raise CaptureError("--device cuda: torch sees no CUDA device")
    on_cpu = args.device == "cpu" or not cuda
    dt_names = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
    if args.dtype != "auto":
        dtype = dt_names[args.dtype]
    elif on_cpu:
        dtype = torch.float32
    else:
        dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}.get(config_dtype_name(cfg) or "", torch.bfloat16)
    if dtype == torch.float32:
        torch.set_float32_matmul_precision("highest")  # no TF32: a plain f32 computation

    install_capture_attention()
    log(f"loading {args.model} ({dtype}, {'cpu' if on_cpu else 'device_map=auto'})")
    load_kw = dict(dtype=dtype, attn_implementation=ATTN_NAME, local_files_only=True, trust_remote_code=args.trust_remote_code)
    if not on_cpu:
        load_kw["device_map"] = "auto"
    try:
        model = AutoModelForCausalLM.from_pretrained(args.model, **load_kw)
    except (ValueError, KeyError) as e:
        if ATTN_NAME not in str(e) and "attn_implementation" not in str(e) and "attention" not in str(e):
            raise
        log(f"from_pretrained refused attn_implementation={ATTN_NAME!r} ({e}); loading with sdpa and switching")
        load_kw["attn_implementation"] = "sdpa"
        model = AutoModelForCausalLM.from_pretrained(args.model, **load_kw)
        model.set_attn_implementation(ATTN_NAME)
    model.eval()
    device_map = getattr(model, "hf_device_map", None)
    if device_map:
        where = sorted({f"cuda:{v}" if isinstance(v, int) else str(v) for v in device_map.values()})
        if args.device == "cuda" and any(w in ("cpu", "disk") for w in where):
            raise CaptureError(f"the model does not fit on the GPUs (device map uses {', '.join(where)}); use --device auto to allow offload")
    else:
        where = sorted({str(p.device) for p in model.parameters()})
    impl = getattr(model.config, "_attn_implementation", None)
    if impl != ATTN_NAME:
        log(f"warning: model.config._attn_implementation is {impl!r}, not {ATTN_NAME!r}; the probe will tell whether the capture sees the layers")
    emb = model.get_input_embeddings()
    in_device = emb.weight.device if emb is not None else next(model.parameters()).device
    ids_t = torch.tensor([ids], dtype=torch.long, device=in_device)
    t_loaded = time.time()
    if cuda:
        for i in range(torch.cuda.device_count()):
            torch.cuda.reset_peak_memory_stats(i)

    # Probe: a short forward pass that shows which layers reach the capture function, and their shapes.
    probe = Probe()
    with torch.inference_mode():
        run_forward_full(model, ids_t, probe, min(S, PROBE_TOKENS))
    if not probe.shapes:
        raise HookError(f"no attention layer called the capture attention function (config._attn_implementation={impl!r}"
                        f"{f'; {probe.no_layer_idx} calls without layer_idx' if probe.no_layer_idx else ''}): this model's attention "
                        "does not dispatch through transformers' AttentionInterface, so it cannot be captured this way")
    if chosen is None:
        layers = sorted(probe.shapes)
    else:
        absent = [l for l in chosen if l not in probe.shapes]
        if absent:
            raise CaptureError(f"layers {absent} have no attention that goes through the AttentionInterface "
                               f"(attention layers seen: {format_layers(sorted(probe.shapes))})")
        layers = chosen
    shapes = {l: probe.shapes[l] for l in layers}
    if with_v and any(s.v_head_dim != s.head_dim for s in shapes.values()):
        log("v's head_dim differs from k's: v is left out (the studio's format wants v shaped like k)")
        with_v = False
    specs = capture_specs(S, shapes, with_v)

    # Metadata (the final timing fields are added in finish()).
    first = shapes[layers[0]]
    meta: Dict[str, str] = {
        "format": "sa-studio capture",
        "tool": "tools/capture",
        "model": args.model,
        "model_path": os.path.abspath(args.model),
        "model_name": os.path.basename(os.path.abspath(args.model).rstrip(os.sep)),
        "name_or_path": str(getattr(cfg, "_name_or_path", "") or ""),
        "family": str(getattr(cfg, "model_type", "") or ""),
        "architectures": ",".join(getattr(cfg, "architectures", None) or []),
        "layers": ",".join(str(l) for l in layers),
        "num_layers": str(num_layers),
        "heads": str(first.heads),
        "kv_heads": str(first.kv_heads),
        "head_dim": str(first.head_dim),
        "tokens": str(S),
        "tokens_total": str(tokens_total),
        "max_tokens": "" if args.max_tokens is None else str(args.max_tokens),
        "tokenizer": tok_how,
        "positions": f"0..{S - 1}",
        "qk": "post-RoPE q and k as transformers passes them to the attention function (q unscaled); v as projected",
        "v": "yes" if with_v else "no",
        "dtype": str(dtype).replace("torch.", ""),
        "chunk": str(args.chunk),
        "devices": ",".join(where),
        "attn_implementation": f"{ATTN_NAME} (records, then transformers' sdpa)",
        "hf_config": config_json(cfg),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if len({(s.heads, s.kv_heads, s.head_dim, s.v_head_dim) for s in shapes.values()}) > 1:
        meta["layer_shapes"] = json.dumps({str(l): [s.heads, s.kv_heads, s.head_dim, s.v_head_dim] for l, s in shapes.items()})
    meta.update(versions())
    if args.text_value is not None:
        meta["text_file"] = os.path.basename(args.text)
        meta.update(text_metadata(args.text_value, include=not args.no_text))
    else:
        meta["ids_file"] = os.path.basename(args.ids)
    header_len = len(padded(header_json(layout(specs), meta), reserve=4096))
    total = 8 + header_len + sum(t.nbytes for t in specs)
    check_size(total, args.max_bytes_n, args.out)

    import numpy as np
    writer = StreamingWriter(args.out, specs, meta, reserve=4096)
    ok = False
    try:
        writer.write("input_ids", np.asarray(ids, dtype=np.int32))

        def to_host(t):
            return t.detach().to(torch.float32).contiguous().cpu().numpy()

        rec = Recorder(layers, shapes, writer, to_host, with_v=with_v, stop_after=max(layers))
        cache = new_cache(model)
        t_cap = time.time()
        with torch.inference_mode():
            for i, (a, b) in enumerate(chunks):
                run_forward(model, ids_t, cache, rec, a, b)
                rec.end_chunk()
                el = time.time() - t_cap
                log(f"chunk {i + 1}/{len(chunks)}: tokens {a}..{b} of {S}, {el:.1f} s, {b / max(el, 1e-9):.0f} tok/s")
        if cuda:
            torch.cuda.synchronize()
        t_done = time.time()
        del cache
        gpu_peaks = [int(torch.cuda.max_memory_allocated(i)) for i in range(torch.cuda.device_count())] if cuda else []
        nonfinite = sum(rec.nonfinite.values())
        final = {
            "load_s": f"{t_loaded - t0:.2f}",
            "capture_s": f"{t_done - t_cap:.2f}",
            "gpu_peak_bytes": str(sum(gpu_peaks)),
            "host_peak_rss_bytes": str(peak_rss_bytes()),
            "nonfinite_values": str(nonfinite),
        }
        if rec.short_kv_layers:
            final["sliding_window_layers"] = format_layers(sorted(rec.short_kv_layers))
        writer.finish(final)
        ok = True
    finally:
        if not ok:
            writer.abort()
    if nonfinite:
        log(f"warning: {nonfinite} non-finite values in {sorted(rec.nonfinite)[:6]}: the studio refuses non-finite q/k/v (try --dtype fp32 or bf16)")
    summary = {
        "tool": "tools/capture", "out": args.out, "bytes": writer.size, "tokens": S, "layers": format_layers(layers),
        "chunk": args.chunk, "chunks": len(chunks), "dtype": meta["dtype"], "devices": where,
        "wall_s": round(time.time() - t0, 2), "load_s": round(t_loaded - t0, 2), "capture_s": round(t_done - t_cap, 2),
        "tok_per_s": round(S / max(t_done - t_cap, 1e-9), 1),
        "gpu_peak_bytes": sum(gpu_peaks), "gpu_peak_bytes_per_device": gpu_peaks, "host_peak_rss_bytes": peak_rss_bytes(),
        "nonfinite_values": nonfinite,
    }
    log(f"wrote {args.out}: {human(writer.size)}, layers {format_layers(layers)}, {S} tokens, {summary['capture_s']} s capture, "
        f"GPU peak {human(sum(gpu_peaks))}, host peak RSS {human(summary['host_peak_rss_bytes'])}")
    print(json.dumps(summary), flush=True)
    return 0


def run_forward_full(model, ids_t, probe: Probe, n: int) -> None:
    """The probe's forward pass over the first n tokens, with its own cache, through every layer."""
    cache = new_cache(model)
    probe.begin_chunk(0, n)
    _ACTIVE["recorder"] = probe
    try:
        model(input_ids=ids_t[:, :n], past_key_values=cache, use_cache=True)
    finally:
        _ACTIVE["recorder"] = None


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        args = parse_args(argv)
        return run(args)
    except CaptureError as e:
        print(f"capture: error: {e}", file=sys.stderr, flush=True)
        return 2
    except HookError as e:
        print(f"capture: failed: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("capture: interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as e:  # noqa: BLE001 - name the failure, keep the traceback for the details
        import traceback
        traceback.print_exc()
        msg = str(e)
        hint = " (lower --chunk, capture fewer layers, or use more GPUs)" if "out of memory" in msg.lower() else ""
        print(f"capture: failed: {type(e).__name__}: {msg.splitlines()[0] if msg else ''}{hint}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
