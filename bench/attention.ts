// Kernel timings of dense flash attention, SampleAttention stages 1+2 and the sparse pass on one
// layer's worth of heads, from timestamp queries (median of `repeats`), with the recall and
// density of the mask that was timed. Targets on an H100 (docs/benchmarks.md): dense <= 2x torch
// SDPA fp32, stages <= 10% of dense at S >= 16K (rowRatio 0.05), sparse+stages >= 2.4x faster
// than dense at S = 32K and ~20% density.
import type { GpuContext } from '../gpu/device';
import { checked } from '../gpu/device';
import { run, type Dispatch } from '../gpu/kernel';
import { GpuTimer, median } from '../gpu/timing';
import { destroyAll, readU32, uploadTensor, uploadU32 } from '../gpu/tensor';
import { createDenseOutputs, destroyDenseOutputs, flashDispatch } from '../gpu/attention/flash';
import { createStage1Outputs, destroyStage1, stage1Dispatches, uploadSampledRows } from '../gpu/sample/stage1';
import { createStage2, destroyStage2, stage2Dispatches } from '../gpu/sample/stage2';
import { createSparseOutputs, destroySparseOutputs, sparseDispatch } from '../gpu/sample/sparse';
import { createMeasureOutputs, destroyMeasureOutputs, measuresDispatch, readMeasures } from '../gpu/sample/measures';
import { sampledRows, validateParams, windowSize, type SampleParams } from '../src/sample/reference';

export interface AttentionBenchOptions {
  S: number;
  heads: number;
  kvHeads: number;
  d: number;
  params: SampleParams;
  repeats: number;
  /** 'structured': every query shares a direction with a few sink keys (sparse real-model-like maps). */
  pattern: 'random' | 'structured';
  seed?: number;
}

export interface AttentionBenchResult {
  S: number;
  heads: number;
  kvHeads: number;
  d: number;
  denseMs: number;
  stagesMs: number;
  sparseMs: number;
  /** denseMs / (stagesMs + sparseMs) */
  speedup: number;
  /** stagesMs / denseMs */
  stageShare: number;
  recallMean: number;
  recallMin: number;
  density: number;
  keysKept: number;
}

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normals(r: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  return out;
}

function inputs(o: AttentionBenchOptions): { q: Float32Array; k: Float32Array; v: Float32Array } {
  const r = mulberry(o.seed ?? 1);
  const { S, heads, kvHeads, d } = o;
  const q = normals(r, heads * S * d), k = normals(r, kvHeads * S * d), v = normals(r, kvHeads * S * d);
  if (o.pattern === 'structured') {
    const u = normals(r, d);
    const norm = Math.hypot(...u);
    const a = Math.sqrt(5 * Math.sqrt(d)); // sink scores stand ~5 above the rest after scaling
    for (let x = 0; x < heads * S; x++) for (let c = 0; c < d; c++) q[x * d + c] = 0.3 * q[x * d + c] + (a * u[c]) / norm;
    const sinks = [0, ...Array.from({ length: Math.max(1, Math.floor(S / 500)) }, () => Math.floor(r() * S))];
    for (let g = 0; g < kvHeads; g++) for (const j of sinks) for (let c = 0; c < d; c++) k[(g * S + j) * d + c] += (a * u[c]) / norm;
  }
  return { q, k, v };
}

async function timed(ctx: GpuContext, timer: GpuTimer, dispatches: Dispatch[]): Promise<number> {
  await run(ctx, dispatches, timer);
  const times = await timer.read();
  return times.reduce((s, t) => s + t.ms, 0);
}

export async function benchAttention(ctx: GpuContext, o: AttentionBenchOptions): Promise<AttentionBenchResult> {
  validateParams(o.params);
  if (!ctx.hasTimestamps) throw new Error('benchAttention needs the timestamp-query feature; this adapter has none.');
  const { S, heads, kvHeads, d } = o;
  const shape = { heads, kvHeads, S, d };
  const x = inputs(o);
  const q = uploadTensor(ctx, 'bench q', [heads, S, d], x.q); // (heads, S, d) f32
  const k = uploadTensor(ctx, 'bench k', [kvHeads, S, d], x.k); // (kvHeads, S, d) f32
  const v = uploadTensor(ctx, 'bench v', [kvHeads, S, d], x.v); // (kvHeads, S, d) f32
  const rows = sampledRows(S, o.params.rowRatio);
  const sr = uploadSampledRows(ctx, S, Array.from({ length: heads }, () => rows));
  const s1 = createStage1Outputs(ctx, shape, sr.nMax);
  const s2 = createStage2(ctx, heads, S, Array(heads).fill(o.params.alpha), Array(heads).fill(rows.length));
  const windows = uploadU32(ctx, 'bench windows', Array(heads).fill(windowSize(S, o.params.windowRatio))); // (heads) u32
  const keys = { keyList: s2.keyList.buffer, keyStats: s2.stats.buffer, windows };
  const dense = createDenseOutputs(ctx, shape);
  const sparse = createSparseOutputs(ctx, shape, true);
  const meas = createMeasureOutputs(ctx, heads, S, true);
  const timer = new GpuTimer(ctx, 256);
  const dt: number[] = [], st: number[] = [], sp: number[] = [];
  try {
    const stages = [...stage1Dispatches(ctx, shape, q, k, sr, s1), ...stage2Dispatches(ctx, heads, S, s1.scores, s2)];
    const denseD = flashDispatch(ctx, shape, q, k, v, dense);
    const sparseD = sparseDispatch(ctx, shape, q, k, v, keys, sparse);
    await checked(ctx.device, 'attention bench warm-up', () => run(ctx, [...stages, denseD, sparseD]));
    for (let rep = 0; rep < o.repeats; rep++) {
      dt.push(await timed(ctx, timer, [denseD]));
      st.push(await timed(ctx, timer, stages));
      sp.push(await timed(ctx, timer, [sparseD]));
    }
    await checked(ctx.device, 'attention bench measures', () => run(ctx, [measuresDispatch(ctx, { heads, S, d, lseDense: dense.lse, lseSparse: sparse.lse, mask: s2.mask.buffer, windows, outDense: dense.out, outSparse: sparse.out }, meas)]));
    const m = await readMeasures(ctx, meas, heads, S, true);
    const counts = await readU32(ctx, s2.stats.buffer, heads * 2);
    const denseMs = median(dt), stagesMs = median(st), sparseMs = median(sp);
    const avg = (f: (h: number) => number) => Array.from({ length: heads }, (_, h) => f(h)).reduce((a, b) => a + b, 0) / heads;
    return {
      S, heads, kvHeads, d, denseMs, stagesMs, sparseMs,
      speedup: denseMs / (stagesMs + sparseMs),
      stageShare: stagesMs / denseMs,
      recallMean: avg((h) => m[h].recallMean),
      recallMin: Math.min(...m.map((h) => h.recallMin)),
      density: avg((h) => m[h].density),
      keysKept: avg((h) => counts[2 * h]),
    };
  } finally {
    timer.destroy();
    destroyAll(q, k, v, windows);
    destroyStage1(s1, sr);
    destroyStage2(s2);
    destroyDenseOutputs(dense);
    destroySparseOutputs(sparse);
    destroyMeasureOutputs(meas);
  }
}
