"""Yardsticks timed beside our WebGPU kernels in the same device call (docs/benchmarks.md):
torch SDPA causal attention (fp16 = FlashAttention, fp32), matmul 4096^3 (fp16, bf16), and
optionally the prefill of a random Llama-3.2-1B-shaped model in transformers (bf16 + SDPA).
Medians of CUDA-event timings after warm-ups. Prints one JSON object per line."""
import argparse, json, statistics, time
import torch

def timed(fn, reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); torch.cuda.synchronize()
        ts.append(a.elapsed_time(b))
    return statistics.median(ts)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--S', default='4096,16384,32768,65536')
    ap.add_argument('--d', default='64,128')
    ap.add_argument('--heads', type=int, default=8)
    ap.add_argument('--reps', type=int, default=10)
    ap.add_argument('--prefill', default='', help='comma-separated lengths for the 1B-shaped prefill (transformers bf16)')
    a = ap.parse_args()
    dev = 'cuda'
    n = 4096
    for dt in (torch.float16, torch.bfloat16):
        x = torch.randn(n, n, device=dev, dtype=dt); w = torch.randn(n, n, device=dev, dtype=dt)
        ms = timed(lambda: x @ w.T, a.reps)
        print(json.dumps({'kind': 'torch matmul', 'dtype': str(dt), 'n': n, 'ms': ms, 'tflops': 2 * n**3 / ms / 1e9}), flush=True)
    for d in [int(v) for v in a.d.split(',')]:
        for S in [int(v) for v in a.S.split(',')]:
            for dt in (torch.float16, torch.float32):
                if dt == torch.float32 and S > 32768:
                    continue
                q = torch.randn(1, a.heads, S, d, device=dev, dtype=dt); k = torch.randn_like(q); v = torch.randn_like(q)
                f = lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
                ms = timed(f, a.reps)
                flops = 2 * S * (S + 1) * d * a.heads
                print(json.dumps({'kind': 'torch sdpa causal', 'dtype': str(dt), 'S': S, 'd': d, 'heads': a.heads, 'ms': ms, 'tflops': flops / ms / 1e9}), flush=True)
                del q, k, v
    if a.prefill:
        from transformers import LlamaConfig, LlamaForCausalLM
        cfg = LlamaConfig(hidden_size=2048, num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8, head_dim=64,
                          intermediate_size=8192, vocab_size=128256, tie_word_embeddings=True, max_position_embeddings=131072,
                          rope_theta=500000.0)
        cfg._attn_implementation = 'sdpa'
        model = LlamaForCausalLM(cfg).to(dev, torch.bfloat16).eval()
        for S in [int(v) for v in a.prefill.split(',')]:
            ids = torch.randint(0, cfg.vocab_size, (1, S), device=dev)
            with torch.no_grad():
                f = lambda: model(ids, logits_to_keep=1)
                ms = timed(f, max(3, a.reps // 3))
            print(json.dumps({'kind': 'transformers prefill 1B-shaped bf16 sdpa', 'S': S, 'ms': ms}), flush=True)

if __name__ == '__main__':
    main()
