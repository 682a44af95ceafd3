// Forward-pass benchmarks: prefill tokens/s of a random Llama-shaped model, and the tiled matmul's
// TFLOP/s. Weights are filled on the GPU (no multi-GB host arrays), so these run in the browser
// and in Node alike; only performance.now() and WebGPU are used.
import { checked, type GpuContext } from '../gpu/device';
import { run } from '../gpu/kernel';
import { createTensor, destroyAll, type Tensor } from '../gpu/tensor';
import { GpuTimer, median } from '../gpu/timing';
import { timeRepeats } from '../gpu/kernel';
import { fillRandomDispatch } from '../gpu/forward/fill';
import { matmulDispatch } from '../gpu/forward/matmul';
import type { ModelConfig } from '../src/model/config';
import { assembleModel, countParameters, forward, type Model } from '../src/model/forward';
import { isF16Role } from '../src/model/build';
import { toF16Dispatch } from '../gpu/tensorcore/convert';
import { createTensorF16 } from '../gpu/tensor';
import type { TensorCoreMode } from '../gpu/tensorcore/support';
import type { Dispatch } from '../gpu/kernel';

export interface ForwardBenchShape {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  inter: number;
  vocab: number;
  /** tokens in the prefill */
  S: number;
  repeats: number;
  /** f16: Linear and LM-head matrices as f16 on tensor cores (filled f32, then converted on the GPU). */
  tensorCores?: TensorCoreMode;
}

export interface ForwardBenchResult {
  shape: ForwardBenchShape;
  parameters: number;
  /** median wall-clock time of one prefill (forward with logits of the last token), ms */
  medianMs: number;
  allMs: number[];
  tokensPerSecond: number;
  adapter: string;
}

/** A Llama-shaped config (RoPE, RMSNorm, SwiGLU, tied embeddings) of the given sizes. */
export function benchConfig(s: ForwardBenchShape): ModelConfig {
  if (s.hidden % s.heads !== 0) throw new RangeError(`benchForward: heads ${s.heads} must divide hidden ${s.hidden}.`);
  return {
    family: 'llama', modelType: 'llama', vocabSize: s.vocab, hiddenSize: s.hidden, numLayers: s.layers,
    numHeads: s.heads, numKvHeads: s.kvHeads, headDim: s.hidden / s.heads, intermediateSize: s.inter,
    maxPositions: Math.max(s.S, 2048), norm: 'rms', normEps: 1e-5, act: 'silu', rope: { theta: 500000, type: 'default' },
    qkvBias: false, oBias: false, mlpBias: false, qkNorm: false, tiedEmbeddings: true,
  };
}

/** A model of `config` with random weights filled on the GPU (norm weights around 1, matrices
 * ~ N(0, 1/fan_in), embeddings O(1), so activations stay finite); f16 Linear and LM-head matrices
 * with `tc` (filled f32, converted on the GPU). For speed only: its outputs mean nothing. */
export async function randomModel(ctx: GpuContext, config: ModelConfig, tc?: TensorCoreMode): Promise<Model> {
  let seed = 1;
  const fills: Dispatch[] = [];
  const temps: Tensor[] = [];
  const model = assembleModel(ctx, config, true, (role, shape) => {
    const isNorm = shape.length === 1;
    const t = createTensor(ctx, `bench ${role}`, shape); // shape as the role says, f32
    fills.push(fillRandomDispatch(ctx, t, seed++, isNorm ? 0.1 : 1 / Math.sqrt(shape[1]), isNorm ? 1 : 0));
    if (!tc || !isF16Role(role)) return t;
    const h = createTensorF16(ctx, `bench ${role} f16`, shape); // shape as the role says, f16
    fills.push(toF16Dispatch(ctx, t, h));
    temps.push(t);
    return h;
  }, tc ? { precision: 'f16', tensorCores: tc } : { precision: 'f32' });
  try {
    await checked(ctx.device, 'random weights', () => run(ctx, fills));
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    destroyAll(...temps);
  }
  return model;
}

/** Prefill throughput: one warm-up forward, then `repeats` timed ones (wall clock around forward,
 * which waits for the GPU and reads back the last token's logits). */
export async function benchForward(ctx: GpuContext, s: ForwardBenchShape): Promise<ForwardBenchResult> {
  const model = await randomModel(ctx, benchConfig(s), s.tensorCores);
  try {
    const ids = Int32Array.from({ length: s.S }, (_, i) => (i * 7919) % s.vocab);
    await forward(model, ids, { logits: 'last' }); // warm-up: pipeline compilation
    const allMs: number[] = [];
    for (let r = 0; r < Math.max(1, s.repeats); r++) {
      const t0 = performance.now();
      const out = await forward(model, ids, { logits: 'last' });
      allMs.push(performance.now() - t0);
      if (!Number.isFinite(out.logits[0])) throw new Error('benchForward: the random model produced non-finite logits.');
    }
    const medianMs = median(allMs);
    return { shape: s, parameters: countParameters(model), medianMs, allMs, tokensPerSecond: (s.S * 1000) / medianMs, adapter: ctx.adapter.description || ctx.adapter.vendor };
  } finally {
    model.dispose();
  }
}

export interface MatmulBenchResult {
  M: number;
  N: number;
  K: number;
  medianMs: number;
  tflops: number;
  /** 'timestamps': GPU time of the dispatch alone; 'wall clock': submit to completion (no timestamp-query feature). */
  timing: 'timestamps' | 'wall clock';
}

/** y (M, N) = x (M, K) W^T with W (N, K): TFLOP/s = 2 M N K / median kernel time. */
export async function benchMatmul(ctx: GpuContext, M: number, N: number, K: number, repeats: number): Promise<MatmulBenchResult> {
  const x = createTensor(ctx, 'bench x', [M, K]); // (M, K) f32
  const w = createTensor(ctx, 'bench w', [N, K]); // (N, K) f32
  const y = createTensor(ctx, 'bench y', [M, N]); // (M, N) f32
  const owned: Tensor[] = [x, w, y];
  const timer = ctx.hasTimestamps ? new GpuTimer(ctx) : undefined;
  try {
    const d = matmulDispatch(ctx, { x, w, y });
    await checked(ctx.device, 'benchMatmul', () => run(ctx, [fillRandomDispatch(ctx, x, 11, 1), fillRandomDispatch(ctx, w, 12, 1 / Math.sqrt(K)), d])); // + warm-up
    const ms: number[] = [];
    const n = Math.max(1, repeats);
    if (timer) {
      ms.push(...(await timeRepeats(ctx, d, n, timer)));
    } else {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await run(ctx, [d]);
        ms.push(performance.now() - t0);
      }
    }
    const medianMs = median(ms);
    return { M, N, K, medianMs, tflops: (2 * M * N * K) / (medianMs * 1e-3) / 1e12, timing: timer ? 'timestamps' : 'wall clock' };
  } finally {
    timer?.destroy();
    destroyAll(...owned);
  }
}
