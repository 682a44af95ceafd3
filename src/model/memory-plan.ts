// The memory guard (issue 13, item 5): what a prefill will put on the GPU, estimated from the
// config alone before anything is uploaded, and checked against the adapter's limits, so a text
// that does not fit is refused with the numbers and what to do instead of a lost device or a frozen
// tab. One function for the command line (cli/session.ts, generate, ttft) and the studio's engine.
// WebGPU exposes no total memory size: the total is checked against a budget only when one is
// given (SA_STUDIO_GPU_BUDGET_MIB in Node, or the caller's option); the largest single buffer is
// always checked against maxStorageBufferBindingSize and maxBufferSize.
import { LimitError } from '../../gpu/errors';
import type { ModelConfig } from './config';
import type { Precision } from './model';
import { kvCacheBytes } from './kv-cache';

/** The forward pass's logits block (forward.ts LOGITS_CHUNK_BYTES). */
const LOGITS_CHUNK_BYTES = 256 << 20;
const MiB = 2 ** 20;

export interface MemoryNeeds {
  /** tokens in the prefill */
  S: number;
  precision: Precision;
  /** which logits rows the prefill computes (default 'all') */
  logits?: 'all' | 'last' | 'none';
  /** the studio keeps every layer's q, k, v and lse on the GPU after the prefill */
  captureLayers?: boolean;
  /** SampleAttention runs: how many layers' runs (selection and output buffers) live at once: 1
   * in the model's override (one layer after another), every layer in the studio (kept for drawing) */
  sampleAttention?: number;
  /** a KV cache of this many positions (generation) */
  kvCache?: number;
}

export interface MemoryEstimate {
  /** bytes of each part */
  weights: number;
  activations: number;
  sampleAttention: number;
  captures: number;
  kvCache: number;
  total: number;
  /** the largest single buffer, which must fit one binding */
  largest: { what: string; bytes: number };
}

export interface GpuLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** total bytes the work may use; unchecked when absent (WebGPU does not say how much there is) */
  budgetBytes?: number;
}

/** Bytes of every GPU buffer the prefill allocates, part by part, as forward.ts, build.ts,
 * layer-run.ts, forward-port.ts and kv-cache.ts allocate them (all activations f32). */
export function estimateGpuMemory(c: ModelConfig, n: MemoryNeeds, maxBinding = Infinity): MemoryEstimate {
  const { S } = n;
  const H = c.hiddenSize, hd = c.headDim, nh = c.numHeads, nkv = c.numKvHeads, I = c.intermediateSize, V = c.vocabSize, L = c.numLayers;
  const f16 = n.precision === 'f16';
  const buffers: { what: string; bytes: number; count: number }[] = [];
  const add = (what: string, elems: number, bytesPer = 4, count = 1) => buffers.push({ what, bytes: elems * bytesPer, count });
  const part = (from: number) => buffers.slice(from).reduce((a, b) => a + b.bytes * b.count, 0);

  // Weights: matrices f16 with precision f16 (build.ts isF16Role), everything else f32.
  const mat = f16 ? 2 : 4;
  add('token embedding (vocab, hidden)', V * H);
  if (c.family === 'gpt2') add('position embedding (positions, hidden)', c.maxPositions * H);
  const norms = (c.norm === 'layer' ? 2 : 1) * (2 * H) + (c.qkNorm ? 2 * hd : 0);
  const biases = (c.qkvBias ? (nh + 2 * nkv) * hd : 0) + (c.oBias ? H : 0) + (c.mlpBias ? (c.act === 'silu' ? 2 : 1) * I + H : 0);
  add('norm weights and biases', norms + biases, 4, L);
  add('q projection (heads * hd, hidden)', nh * hd * H, mat, L);
  add('k, v projections (kvHeads * hd, hidden)', nkv * hd * H, mat, 2 * L);
  add('o projection (hidden, heads * hd)', H * nh * hd, mat, L);
  add('MLP matrices (inter, hidden)', I * H, mat, (c.act === 'silu' ? 3 : 2) * L);
  add('final norm', (c.norm === 'layer' ? 2 : 1) * H);
  // Tied f32 reuses the embedding; tied f16 keeps an f16 copy; untied has its own matrix.
  if (!(c.tiedEmbeddings && !f16)) add('LM head (vocab, hidden)', V * H, mat);
  const weights = part(0);

  // Activations of forward.ts at S tokens.
  let mark = buffers.length;
  add('residual and normed (S, hidden)', S * H, 4, 2);
  add('q rows, q (S, heads * hd)', S * nh * hd, 4, c.qkNorm ? 3 : 2);
  add('k, v rows and heads (S, kvHeads * hd)', S * nkv * hd, 4, c.qkNorm ? 6 : 4);
  add('attention out, merged (heads, S, hd)', nh * S * hd, 4, 2);
  add('projection (S, hidden)', S * H);
  add('MLP up / gate (S, inter)', S * I, 4, c.act === 'silu' ? 2 : 1);
  add('attention lse (heads, S)', nh * S);
  // The tensor-core dense pass reads f16 copies of k and v (gpu/tensorcore/convert.ts kvHalvesFor).
  if (f16 && hd % 8 === 0) add('k, v as f16 for tensor-core attention (kvHeads, S, hd)', S * nkv * hd, 2, 2);
  // ... and its matmuls read x as f16 copies (forward.ts xHalves): normed, merged, MLP activation.
  if (f16 && S > 1) add('normed, merged and MLP rows as f16 for the tensor-core matmuls (S, hidden | heads * hd | inter)', S * (H + nh * hd + I), 2);
  if (c.rope) add('RoPE tables (S, hd/2)', S * (hd / 2), 4, 2);
  add('token ids (S)', S);
  // Uniform buffers (one per dispatch, freed by the garbage collector), the finite counter, sampled
  // rows, windows: small, a fixed allowance.
  add('uniforms, counters and small lists (allowance)', 64 * 1024, 1);
  const logits = n.logits ?? 'all';
  if (logits !== 'none') {
    const rows = logits === 'last' ? 1 : Math.max(1, Math.min(S, Math.floor(Math.min(LOGITS_CHUNK_BYTES, maxBinding) / (V * 4))));
    // The block and its read-back staging copy (tensor.ts readBuffer).
    add('logits block (rows, vocab)', rows * V, 4, 2);
  }
  const activations = part(mark);

  // SampleAttention of one layer at a time (layer-run.ts): dense and sparse outputs, the stage
  // buffers of (heads, S); the sampled rows are a small share of S.
  mark = buffers.length;
  const runs = n.sampleAttention ?? 0;
  if (runs > 0) {
    add('SampleAttention dense and sparse out (heads, S, hd)', nh * S * hd, 4, 2 * runs);
    add('SampleAttention scores, masks, key lists, lse, recall (heads, S)', nh * S, 4, 7 * runs);
    // f16 copies for the tensor-core passes: q, k, v for the selection, k, v for the dense pass.
    if (f16 && hd % 8 === 0) add('SampleAttention f16 q, k, v copies', (nh + 4 * nkv) * S * hd, 2, runs);
  }
  const sampleAttention = part(mark);

  mark = buffers.length;
  if (n.captureLayers) {
    add('captured q per layer (heads, S, hd)', nh * S * hd, 4, L);
    add('captured k, v per layer (kvHeads, S, hd)', nkv * S * hd, 4, 2 * L);
    add('captured lse per layer (heads, S)', nh * S, 4, L);
  }
  const captures = part(mark);

  mark = buffers.length;
  if (n.kvCache) add('KV cache per layer (kvHeads, positions, hd)', kvCacheBytes(c, n.kvCache) / (2 * L), 1, 2 * L);
  const kvCache = part(mark);

  const top = buffers.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { weights, activations, sampleAttention, captures, kvCache, total: weights + activations + sampleAttention + captures + kvCache, largest: { what: top.what, bytes: top.bytes } };
}

const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

/** Throws a LimitError naming the numbers and what to do when the estimate does not fit. */
export function checkGpuMemory(e: MemoryEstimate, n: MemoryNeeds, limits: GpuLimits): void {
  const tips = [`fewer tokens (--max-tokens, or a shorter text than ${n.S} tokens)`];
  if (n.precision === 'f32') tips.push('f16 weights (--precision f16, or the studio\'s f16 switch)');
  if (n.captureLayers) tips.push('a capture file for the selection (sa-studio capture, then select) instead of keeping every layer on the GPU');
  const what = `weights ${mib(e.weights)}, activations ${mib(e.activations)}` +
    (e.sampleAttention ? `, SampleAttention ${mib(e.sampleAttention)}` : '') +
    (e.captures ? `, captured q/k/v ${mib(e.captures)}` : '') +
    (e.kvCache ? `, KV cache ${mib(e.kvCache)}` : '');
  const bind = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (e.largest.bytes > bind) {
    throw new LimitError(`GPU memory: at ${n.S} tokens the largest buffer, ${e.largest.what}, needs ${mib(e.largest.bytes)}, more than this adapter's ${mib(bind)} per buffer (maxStorageBufferBindingSize ${mib(limits.maxStorageBufferBindingSize)}, maxBufferSize ${mib(limits.maxBufferSize)}). Use ${tips.join('; or ')}.`, e.largest.bytes, bind);
  }
  if (limits.budgetBytes !== undefined && e.total > limits.budgetBytes) {
    throw new LimitError(`GPU memory: at ${n.S} tokens this needs about ${mib(e.total)} (${what}), more than the ${mib(limits.budgetBytes)} budget. Use ${tips.join('; or ')}.`, e.total, limits.budgetBytes);
  }
}

/** The device's buffer limits and, in Node, the budget SA_STUDIO_GPU_BUDGET_MIB (MiB) if set. */
export function gpuLimits(device: GPUDevice, budgetMiB: string | undefined = typeof process !== 'undefined' ? process.env?.SA_STUDIO_GPU_BUDGET_MIB : undefined): GpuLimits {
  const budget = budgetMiB !== undefined && budgetMiB !== '' ? Number(budgetMiB) : undefined;
  if (budget !== undefined && !(budget > 0)) throw new RangeError(`SA_STUDIO_GPU_BUDGET_MIB must be a positive number of MiB, got "${budgetMiB}".`);
  return { maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize, maxBufferSize: device.limits.maxBufferSize, budgetBytes: budget !== undefined ? budget * MiB : undefined };
}

/** estimateGpuMemory then checkGpuMemory: the guard every prefill runs first. */
/** The refusal of a text longer than the model's context, worded alike by every verb and the
 * studio: `label` names the text, `detail` follows its count, `remedy` names the caller's own
 * control (a CLI flag, the studio's field). */
export function positionsError(label: string, tokens: number, max: number, remedy: string, file: string | undefined, detail = ''): LimitError {
  return new LimitError(`${label} has ${tokens} tokens${detail}, more than the model's ${max} positions (max_position_embeddings): ${remedy}`, tokens, max, { file });
}

export function guardGpuMemory(c: ModelConfig, n: MemoryNeeds, limits: GpuLimits): MemoryEstimate {
  const e = estimateGpuMemory(c, n, limits.maxStorageBufferBindingSize);
  checkGpuMemory(e, n, limits);
  return e;
}

/** The shape of one captured layer (a capture file, src/sampleattention/formats/capture-file.ts). */
export interface CaptureLayerShape {
  S: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  hasV: boolean;
}

/** GPU bytes of one captured layer run through SampleAttention (the studio keeps the run for
 * drawing; the CLI frees it): q, k (and v) uploaded, plus the run's buffers (layer-run.ts). The
 * largest buffer is q (heads, S, d), matched by the dense and sparse outputs. */
export function captureLayerMemory(c: CaptureLayerShape): { inputs: number; run: number; total: number; largest: number } {
  const q = 4 * c.heads * c.S * c.headDim;
  const kv = 4 * c.kvHeads * c.S * c.headDim;
  const inputs = q + kv * (c.hasV ? 2 : 1);
  const run = q * (c.hasV ? 2 : 1) + 7 * 4 * c.heads * c.S;
  return { inputs, run, total: inputs + run, largest: q };
}

/** The most tokens a captured layer of this shape may have on this adapter: its q (heads, S, d)
 * f32 must fit one buffer binding. */
export const maxCaptureTokens = (c: Pick<CaptureLayerShape, 'heads' | 'headDim'>, limits: GpuLimits): number =>
  Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / (4 * c.heads * c.headDim));

/** Refuses, before anything is read or uploaded, a capture whose one layer does not fit: a buffer
 * past the adapter's binding limit, or (when a budget is known) a layer past the budget. */
/** MiB, or KiB below one MiB (a small capture's numbers stay readable). */
const size = (b: number) => (b < MiB ? `${(b / 1024).toFixed(1)} KiB` : mib(b));

export function guardCaptureLayer(c: CaptureLayerShape, limits: GpuLimits, file: string): ReturnType<typeof captureLayerMemory> {
  const m = captureLayerMemory(c);
  const bind = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const shape = `${c.S} tokens x ${c.heads} heads x d ${c.headDim}`;
  const fewer = (n: number) => `capture fewer tokens (at most ${n}: sa-studio capture --max-tokens ${n}, tools/capture/capture.py --max-tokens ${n}), or use only the first ${n} (--max-tokens ${n})`;
  if (m.largest > bind) {
    const maxS = maxCaptureTokens(c, limits);
    throw new LimitError(`${file}: one layer's q (${shape}, f32) needs a ${size(m.largest)} GPU buffer, more than this adapter's ${size(bind)} per buffer (maxStorageBufferBindingSize ${size(limits.maxStorageBufferBindingSize)}, maxBufferSize ${size(limits.maxBufferSize)}); at ${c.heads} heads x d ${c.headDim} it takes at most ${maxS} tokens. Either ${fewer(maxS)}, or a GPU with larger buffers.`, m.largest, bind, { file });
  }
  if (limits.budgetBytes !== undefined && m.total > limits.budgetBytes) {
    // Every part grows linearly with S.
    const maxS = Math.floor((limits.budgetBytes / m.total) * c.S);
    throw new LimitError(`${file}: one layer (${shape}) needs about ${size(m.total)} on the GPU (q/k/v ${size(m.inputs)}, SampleAttention ${size(m.run)}), more than the ${size(limits.budgetBytes)} budget. Either ${fewer(maxS)}, or a larger budget.`, m.total, limits.budgetBytes, { file });
  }
  return m;
}
