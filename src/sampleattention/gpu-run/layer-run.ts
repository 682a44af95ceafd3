// SampleAttention on the GPU for one layer (all heads): stage 1, stage 2, the sparse pass, the
// dense pass and the measures, in one submission, with the per-head results read back compactly
// and the GPU tensors kept for drawing until dispose(). The float64 twin is reference.ts.
import type { GpuContext } from '../../../gpu/device';
import { checked } from '../../../gpu/device';
import { run, type Dispatch } from '../../../gpu/kernel';
import type { GpuTimer } from '../../../gpu/timing';
import { readTensor, readU32, uploadU32, destroyAll, type Tensor } from '../../../gpu/tensor';
import { checkAttentionShape, type AttentionShape } from '../../../gpu/attention/shapes';
import { createDenseOutputs, destroyDenseOutputs, flashDispatch, type DenseOutputs } from '../../../gpu/attention/flash';
import { createStage1Outputs, destroyStage1, stage1Dispatches, uploadSampledRows } from '../../../gpu/sample/stage1';
import { createStage2, destroyStage2, stage2Dispatches } from '../../../gpu/sample/stage2';
import { createSparseOutputs, destroyKeySets, destroySparseOutputs, sparseDispatch, uploadKeySets, type KeySets, type SparseOutputs } from '../../../gpu/sample/sparse';
import { createMeasureOutputs, destroyMeasureOutputs, measuresDispatch, readMeasures } from '../../../gpu/sample/measures';
import { createPooled, poolGrid, poolDispatch, POOL_PLANES, type PoolRequest } from '../../../gpu/sample/pool';
import type { PooledMap } from './pooled-map';
import { sampledRows, validateParams, windowSize, type SampleParams } from '../spec/params';
import { type HeadSelection } from '../spec/selection';
import { percentile } from '../spec/stats';
import { flashF16Dispatch, sparseF16Dispatch, stage1F16Dispatches } from '../../../gpu/tensorcore/attention';
import type { TensorCoreMode } from '../../../gpu/tensorcore/support';

export interface AttentionInput extends AttentionShape {
  /** (heads, S, d) f32 */
  q: Tensor;
  /** (kvHeads, S, d) f32 */
  k: Tensor;
  /** Defaults to 1/sqrt(d). */
  scale?: number;
  timer?: GpuTimer;
  /** Run stage 1, the dense and the sparse pass on tensor cores (f16, gpu/tensorcore); f32 otherwise. */
  tensorCores?: TensorCoreMode;
}

export interface SampleInput extends AttentionInput {
  /** (kvHeads, S, d) f32; without it there is no output error (recall and density still come). */
  v?: Tensor;
  /** One set for every head, or one per query head. */
  params: SampleParams | readonly SampleParams[];
  /** (heads, S) f32: the dense log-sum-exp of q, k at this scale when it is known already (the
   * prefill's flash pass). Without v it replaces the dense pass, whose output only the output
   * error needs; it is copied, not kept. */
  denseLse?: Tensor;
}

export interface SampleTensors {
  /** (heads, S) f32: stage-1 column scores c_j */
  scores: Tensor;
  /** (heads, S) u32: 1 = key in I_KV */
  keyMask: Tensor;
  /** (heads) u32 */
  windows: GPUBuffer;
  /** dense out (heads, S, d) f32 and lse (heads, S) f32 */
  dense: DenseOutputs;
  /** sparse lse (heads, S) f32 and, with v, out (heads, S, d) f32 */
  sparse: SparseOutputs;
  /** (heads, S) f32: R_i */
  recall: Tensor;
}

export interface SampleRun {
  heads: HeadSelection[];
  tensors: SampleTensors;
  /** Pooled maps (max P, sum P, kept fraction, missed mass) of the chosen heads, read back. */
  pool(req: PoolRequest): Promise<Record<(typeof POOL_PLANES)[number], PooledMap>[]>;
  dispose(): void;
}

function perHeadParams(params: SampleParams | readonly SampleParams[], heads: number): SampleParams[] {
  const list = Array.isArray(params) ? [...(params as readonly SampleParams[])] : Array.from({ length: heads }, () => params as SampleParams);
  if (list.length !== heads) throw new RangeError(`runSampleAttention: ${list.length} parameter sets for ${heads} heads; give one per query head or a single set.`);
  list.forEach((p) => validateParams(p));
  return list;
}

/** The buffers and dispatches of stages 1 and 2 for every head (sampled rows, column scores, the
 * kept keys): shared by runSampleAttention and the measure-free prefill (prefill-attention.ts). */
export function selectionStages(ctx: GpuContext, shape: AttentionShape, q: Tensor, k: Tensor, params: readonly SampleParams[], scale: number, tc?: TensorCoreMode) {
  const { heads, S } = shape;
  const rows = params.map((p) => sampledRows(S, p.rowRatio));
  const windowsHost = params.map((p) => windowSize(S, p.windowRatio));
  const sr = uploadSampledRows(ctx, S, rows);
  const s1 = createStage1Outputs(ctx, shape, sr.nMax);
  const s2 = createStage2(ctx, heads, S, params.map((p) => p.alpha), rows.map((r) => r.length));
  const windows = uploadU32(ctx, 'sample windows', windowsHost); // (heads) u32
  const keys: KeySets = { keyList: s2.keyList.buffer, keyStats: s2.stats.buffer, windows };
  const dispatches: Dispatch[] = [
    ...(tc ? stage1F16Dispatches(ctx, tc, shape, q, k, sr, s1, scale) : stage1Dispatches(ctx, shape, q, k, sr, s1, scale)),
    ...stage2Dispatches(ctx, heads, S, s1.scores, s2),
  ];
  return { rows, windowsHost, sr, s1, s2, windows, keys, dispatches };
}

/** Frees what selectionStages made. */
export function destroySelectionStages(st: Pick<ReturnType<typeof selectionStages>, 's1' | 'sr' | 's2' | 'windows'>): void {
  destroyStage1(st.s1, st.sr);
  destroyStage2(st.s2);
  destroyAll(st.windows);
}

/** The dense (flash) pass on tensor cores when tc is set, in f32 otherwise. */
const flashFor = (ctx: GpuContext, tc: TensorCoreMode | undefined, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, o: DenseOutputs, scale?: number): Dispatch =>
  tc ? flashF16Dispatch(ctx, tc, s, q, k, v, o, scale) : flashDispatch(ctx, s, q, k, v, o, scale);

/** The sparse pass over the kept keys, on tensor cores when tc is set, in f32 otherwise. */
export const sparseFor = (ctx: GpuContext, tc: TensorCoreMode | undefined, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor | undefined, keys: KeySets, o: SparseOutputs, scale?: number): Dispatch =>
  tc ? sparseF16Dispatch(ctx, tc, s, q, k, v, keys, o, scale) : sparseDispatch(ctx, s, q, k, v, keys, o, scale);

/** Per-head parameter list (one set repeated, or one per query head), validated. */
export { perHeadParams };

/** Stages 1 and 2, dense and sparse passes and measures for every head, in one submission. */
export async function runSampleAttention(ctx: GpuContext, input: SampleInput): Promise<SampleRun> {
  const { q, k, v, heads, S, d, timer } = input;
  const shape: AttentionShape = { heads, kvHeads: input.kvHeads, S, d };
  checkAttentionShape('runSampleAttention', shape, q, k, v);
  const scale = input.scale ?? 1 / Math.sqrt(d);
  const params = perHeadParams(input.params, heads);
  const tc = input.tensorCores;
  const reuseLse = !v && input.denseLse;
  if (reuseLse && reuseLse.shape.join() !== [heads, S].join()) throw new RangeError(`runSampleAttention: denseLse has shape [${reuseLse.shape.join(', ')}]; (heads, S) = (${heads}, ${S}).`);
  const { rows, windowsHost, sr, s1, s2, windows, keys, dispatches: stages } = selectionStages(ctx, shape, q, k, params, scale, tc);
  const dense = createDenseOutputs(ctx, shape);
  if (reuseLse) {
    const enc = ctx.device.createCommandEncoder({ label: 'SampleAttention: the known dense lse' });
    enc.copyBufferToBuffer(reuseLse.buffer, 0, dense.lse.buffer, 0, heads * S * 4);
    ctx.device.queue.submit([enc.finish()]);
  }
  const sparse = createSparseOutputs(ctx, shape, !!v);
  const meas = createMeasureOutputs(ctx, heads, S, !!v);
  const dispatches: Dispatch[] = [
    ...stages,
    // Without v the dense pass still runs for its lse (recall needs the full P; k stands in for
    // v), unless that lse is known already.
    ...(reuseLse ? [] : [flashFor(ctx, tc, shape, q, k, v ?? k, dense, scale)]),
    sparseFor(ctx, tc, shape, q, k, v, keys, sparse, scale),
    measuresDispatch(ctx, { heads, S, d, lseDense: dense.lse, lseSparse: sparse.lse, mask: s2.mask.buffer, windows, outDense: v ? dense.out : undefined, outSparse: sparse.out }, meas),
  ];
  const disposeAll = () => {
    destroySelectionStages({ s1, sr, s2, windows });
    destroyDenseOutputs(dense);
    destroySparseOutputs(sparse);
    destroyMeasureOutputs(meas);
  };
  try {
    await checked(ctx.device, 'SampleAttention', () => run(ctx, dispatches, timer));
    const stats = await readU32(ctx, s2.stats.buffer, heads * 2);
    const statsF = new Float32Array(stats.buffer);
    const list = await readU32(ctx, s2.keyList.buffer, heads * S);
    const recall = await readTensor(ctx, meas.recall);
    const m = await readMeasures(ctx, meas, heads, S, !!v);
    const results: HeadSelection[] = params.map((_, h) => {
      const count = stats[2 * h];
      const r: HeadSelection = {
        head: h,
        sampledRows: rows[h],
        selectedKeys: Array.from(list.subarray(h * S, h * S + count)),
        window: windowsHost[h],
        stage1Estimate: statsF[2 * h + 1],
        recallMean: m[h].recallMean,
        recallMin: m[h].recallMin,
        recallP5: percentile(recall.subarray(h * S, (h + 1) * S), 5),
        density: m[h].density,
      };
      if (v) r.outputError = m[h].outputError;
      return r;
    });
    // Stage-1 row data and stage-2 lists are not needed for drawing.
    destroyAll(s1.rowLse, sr.rows, sr.nRows, s2.keyList, s2.stats, s2.headParams, meas.stats);
    const tensors: SampleTensors = { scores: s1.scores, keyMask: s2.mask, windows, dense, sparse, recall: meas.recall };
    return {
      heads: results,
      tensors,
      pool: (req) => poolMaps(ctx, shape, q, k, tensors, req, scale),
      dispose: () => destroyAll(s1.scores, s2.mask, windows, dense.out, dense.lse, sparse.out, sparse.lse, sparse.placeholder, meas.recall, meas.placeholder),
    };
  } catch (e) {
    disposeAll();
    throw e;
  }
}

async function poolMaps(ctx: GpuContext, shape: AttentionShape, q: Tensor, k: Tensor, t: SampleTensors, req: PoolRequest, scale: number): Promise<Record<(typeof POOL_PLANES)[number], PooledMap>[]> {
  const { rows, cols, block } = poolGrid(shape.S, req.B, req.viewport);
  const pooled = createPooled(ctx, shape.S, req);
  try {
    await checked(ctx.device, 'pooled maps', () => run(ctx, [poolDispatch(ctx, shape, q, k, t.dense.lse, t.keyMask.buffer, t.windows, req, pooled, scale)]));
    const all = await readTensor(ctx, pooled);
    return Array.from({ length: req.headCount }, (_, hh) => {
      const planes = {} as Record<(typeof POOL_PLANES)[number], PooledMap>;
      POOL_PLANES.forEach((name, pl) => {
        const off = (hh * 4 + pl) * rows * cols;
        planes[name] = { values: all.slice(off, off + rows * cols), rows, cols, block };
      });
      return planes;
    });
  } finally {
    destroyAll(pooled);
  }
}

/** Dense causal attention of every head: out (heads, S, d) and lse (heads, S); caller disposes. */
export async function denseAttention(ctx: GpuContext, input: AttentionInput & { v: Tensor }): Promise<DenseOutputs> {
  const shape: AttentionShape = { heads: input.heads, kvHeads: input.kvHeads, S: input.S, d: input.d };
  const o = createDenseOutputs(ctx, shape);
  try {
    await checked(ctx.device, 'dense attention', () => run(ctx, [flashFor(ctx, input.tensorCores, shape, input.q, input.k, input.v, o, input.scale)], input.timer));
  } catch (e) {
    destroyDenseOutputs(o);
    throw e;
  }
  return o;
}

/** Sparse attention over the mask given by each head's kept keys (ascending) and window w;
 * without v only the sparse log-sum-exp is computed. Caller disposes the outputs. */
export async function sparseAttention(ctx: GpuContext, input: AttentionInput & { v?: Tensor; keys: readonly (readonly number[])[]; windows: readonly number[] }): Promise<SparseOutputs> {
  const shape: AttentionShape = { heads: input.heads, kvHeads: input.kvHeads, S: input.S, d: input.d };
  if (input.keys.length !== input.heads) throw new RangeError(`sparseAttention: ${input.keys.length} key sets for ${input.heads} heads.`);
  const ks = uploadKeySets(ctx, input.S, input.keys, input.windows);
  const o = createSparseOutputs(ctx, shape, !!input.v);
  try {
    const tc = input.tensorCores;
    await checked(ctx.device, 'sparse attention', () => run(ctx, [sparseFor(ctx, tc, shape, input.q, input.k, input.v, ks, o, input.scale)], input.timer));
  } catch (e) {
    destroySparseOutputs(o);
    throw e;
  } finally {
    destroyKeySets(ks);
  }
  return o;
}
