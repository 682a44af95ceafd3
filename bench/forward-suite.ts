// The forward-pass figures of issue 2: matmul TFLOP/s at 4096^3 and prefill tokens/s of a
// ~100M-parameter Llama-shaped random model at 1K and 4K tokens (bench/forward.ts measures).
import type { GpuContext } from '../gpu/device';
import { benchForward, benchMatmul, type ForwardBenchShape } from './forward';

/** 12 layers x 768 (12 heads, 4 kv heads), SwiGLU 2048, vocab 32000, tied: 101M parameters. */
export const BENCH_LLAMA: Omit<ForwardBenchShape, 'S' | 'repeats'> = { layers: 12, hidden: 768, heads: 12, kvHeads: 4, inter: 2048, vocab: 32000 };

/** Llama-3.2-1B's shape: 16 layers x 2048, 32 heads / 8 kv (head dim 64), SwiGLU 8192, vocab 128256, tied. */
export const BENCH_LLAMA_1B: Omit<ForwardBenchShape, 'S' | 'repeats'> = { layers: 16, hidden: 2048, heads: 32, kvHeads: 8, inter: 8192, vocab: 128256 };

/** `lengths` (prefill tokens) and `matmul` (the square size) default to the 1K, 4K and
 * 4096; smaller ones make a quick check on a software adapter. */
export async function benchForwardSuite(ctx: GpuContext, repeats: number, log: (line: string) => void, o: { lengths?: readonly number[]; matmul?: number } = {}): Promise<unknown[]> {
  const out: unknown[] = [];
  const n = o.matmul ?? 4096;
  const mm = await benchMatmul(ctx, n, n, n, repeats);
  log(`matmul ${n}^3: ${mm.medianMs.toFixed(2)} ms, ${mm.tflops.toFixed(2)} TFLOP/s (median of ${repeats}, ${mm.timing})`);
  out.push({ kind: 'matmul', ...mm });
  for (const S of o.lengths ?? [1024, 4096]) {
    const p = await benchForward(ctx, { ...BENCH_LLAMA, S, repeats });
    log(`prefill ${(p.parameters / 1e6).toFixed(1)}M-parameter Llama, ${S} tokens: ${p.medianMs.toFixed(1)} ms = ${p.tokensPerSecond.toFixed(0)} tokens/s (wall clock, median of ${repeats}, last-token logits)`);
    out.push({ kind: 'prefill', ...p });
  }
  return out;
}
