// Forward-pass benchmarks: prefill tokens/s of a ~100M-parameter random Llama-shaped model at 1K
// and 4K tokens, and the matmul kernel's TFLOP/s at 4096^3. GPU time is the sum of the passes'
// timestamp-query durations (median of repeats); wall time, which adds host work and the logits
// read-back, is printed beside it.
import type { GpuContext } from '../gpu/device';
import { run } from '../gpu/kernel';
import { GpuTimer, median } from '../gpu/timing';
import { createTensor, destroyAll, uploadTensor } from '../gpu/tensor';
import { matmulDispatch } from '../gpu/model/matmul';
import type { HostTensor, ModelConfig, WeightSource } from '../src/model/config';
import { buildModel, forward } from '../src/model/transformer';

/** Llama-shaped, 12 layers x 768 (12 heads, 4 kv heads), SwiGLU 2048, vocab 32000: 101M parameters. */
export const BENCH_LLAMA: ModelConfig = {
  family: 'llama', modelType: 'llama', vocabSize: 32000, hiddenSize: 768, numLayers: 12, numHeads: 12, numKvHeads: 4, headDim: 64,
  intermediateSize: 2048, maxPositions: 4096, norm: 'rms', normEps: 1e-5, act: 'silu', rope: { theta: 10000, type: 'default' },
  qkvBias: false, oBias: false, mlpBias: false, qkNorm: false, tiedEmbeddings: true,
};

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Weights of the shapes buildModel asks for, uniform in +-0.05 (norm weights 1), made on demand. */
export function randomWeights(c: ModelConfig, seed = 1): WeightSource {
  const r = rng(seed);
  const E = c.hiddenSize, hd = c.headDim, I = c.intermediateSize;
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [c.vocabSize, E]], ['model.norm.weight', [E]]]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    shapes.set(`${p}.input_layernorm.weight`, [E]).set(`${p}.post_attention_layernorm.weight`, [E]);
    shapes.set(`${p}.self_attn.q_proj.weight`, [c.numHeads * hd, E]).set(`${p}.self_attn.k_proj.weight`, [c.numKvHeads * hd, E]);
    shapes.set(`${p}.self_attn.v_proj.weight`, [c.numKvHeads * hd, E]).set(`${p}.self_attn.o_proj.weight`, [E, c.numHeads * hd]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [I, E]).set(`${p}.mlp.up_proj.weight`, [I, E]).set(`${p}.mlp.down_proj.weight`, [E, I]);
  }
  return {
    names: () => [...shapes.keys()],
    has: (n) => shapes.has(n),
    get: (name): HostTensor => {
      const shape = shapes.get(name);
      if (!shape) throw new Error(`random weights: no tensor ${name}`);
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      if (shape.length === 1) data.fill(1);
      else for (let i = 0; i < data.length; i++) data[i] = (r() - 0.5) * 0.1;
      return { name, dtype: 'F32', shape, bytes: new Uint8Array(data.buffer) };
    },
  };
}

export async function benchPrefill(ctx: GpuContext, c: ModelConfig, S: number, repeats: number) {
  const model = buildModel(ctx, c, randomWeights(c));
  const ids = Int32Array.from({ length: S }, (_, i) => (i * 7919) % c.vocabSize);
  const timer = new GpuTimer(ctx, 32 * (c.numLayers + 2));
  const gpuMs: number[] = [];
  const wallMs: number[] = [];
  try {
    await forward(model, ids, {}); // warm-up: pipeline compilation
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await forward(model, ids, { timer });
      wallMs.push(performance.now() - t0);
      gpuMs.push((await timer.read()).reduce((s, t) => s + t.ms, 0));
    }
  } finally {
    timer.destroy();
    model.dispose();
  }
  const g = median(gpuMs);
  const w = median(wallMs);
  return { S, parameters: model.parameters, gpuMs: g, wallMs: w, tokensPerSecGpu: (S * 1000) / g, tokensPerSecWall: (S * 1000) / w };
}

export async function benchMatmul(ctx: GpuContext, n: number, repeats: number) {
  const r = rng(2);
  const data = Float32Array.from({ length: n * n }, () => r() - 0.5);
  const x = uploadTensor(ctx, 'x', [n, n], data); // (n, n) f32
  const w = uploadTensor(ctx, 'w', [n, n], data); // (n, n) f32
  const y = createTensor(ctx, 'y', [n, n]); // (n, n) f32
  const timer = new GpuTimer(ctx, 8);
  const ms: number[] = [];
  try {
    await run(ctx, [matmulDispatch(ctx, x, w, undefined, y)]);
    for (let i = 0; i < repeats; i++) {
      await run(ctx, [matmulDispatch(ctx, x, w, undefined, y)], timer);
      ms.push((await timer.read())[0].ms);
    }
  } finally {
    timer.destroy();
    destroyAll(x, w, y);
  }
  const m = median(ms);
  return { n, ms: m, tflops: (2 * n ** 3) / (m / 1000) / 1e12 };
}

export async function benchForwardSuite(ctx: GpuContext, repeats: number, log: (line: string) => void): Promise<unknown[]> {
  const out: unknown[] = [];
  const mm = await benchMatmul(ctx, 4096, repeats);
  log(`matmul 4096^3: ${mm.ms.toFixed(2)} ms, ${mm.tflops.toFixed(2)} TFLOP/s (median of ${repeats})`);
  out.push({ kind: 'matmul', ...mm });
  for (const S of [1024, 4096]) {
    const p = await benchPrefill(ctx, BENCH_LLAMA, S, repeats);
    log(`prefill ${(p.parameters / 1e6).toFixed(1)}M-parameter Llama, ${S} tokens: GPU ${p.gpuMs.toFixed(1)} ms = ${p.tokensPerSecGpu.toFixed(0)} tokens/s; wall ${p.wallMs.toFixed(1)} ms = ${p.tokensPerSecWall.toFixed(0)} tokens/s`);
    out.push({ kind: 'prefill', ...p });
  }
  return out;
}
