// SampleAttention on the GPU for one layer (all heads, each with its own variant and parameters):
// every group's stages and sparse pass (selection-plan.ts), the dense pass and the measures, in one
// submission, with the per-head results read back compactly and the GPU tensors kept for drawing
// until dispose(). The float64 twins are spec/reference.ts (tokens), spec/blocks/reference.ts
// (blocks) and spec/setting-reference.ts (any mix).
import type { GpuContext } from '../../../gpu/device';
import { checked } from '../../../gpu/device';
import { run, runSteps, type Step } from '../../../gpu/kernel';
import type { GpuTimer } from '../../../gpu/timing';
import { readTensor, destroyAll, type Tensor } from '../../../gpu/tensor';
import { checkAttentionShape, type AttentionShape } from '../../../gpu/attention/shapes';
import { createDenseOutputs, destroyDenseOutputs, type DenseOutputs } from '../../../gpu/attention/flash';
import { createSparseOutputs, destroyKeySets, destroySparseOutputs, uploadKeySets, type SparseOutputs } from '../../../gpu/sample/sparse';
import { createMeasureOutputs, destroyMeasureOutputs, measuresDispatch, readMeasures } from '../../../gpu/sample/measures';
import { createMaskPlanes, destroyMaskPlanes } from '../../../gpu/sample/mask-planes';
import { createPooled, poolGrid, poolDispatch, POOL_PLANES, type PoolRequest } from '../../../gpu/sample/pool';
import type { PooledMap } from './pooled-map';
import type { HeadResult, SettingLike } from '../spec/setting';
import { percentile } from '../spec/stats';
import type { TensorCoreMode } from '../../../gpu/tensorcore/support';
import { kvHalvesFor } from '../../../gpu/tensorcore/convert';
import { flashFor, sparseFor } from './passes';
import { perHeadSettings } from './head-groups';
import { selectionPlan } from './selection-plan';

export { selectionStages, destroySelectionStages, flashFor, sparseFor, blocksSparseFor } from './passes';
export { perHeadSettings } from './head-groups';

export interface AttentionInput extends AttentionShape {
  /** (heads, S, d) f32 */
  q: Tensor;
  /** (kvHeads, S, d) f32 */
  k: Tensor;
  /** Defaults to 1/sqrt(d). */
  scale?: number;
  timer?: GpuTimer;
  /** Run stage 1, the dense and the sparse pass on tensor cores (f16, gpu/tensorcore); f32 otherwise
   * (the blocks variant's kernels are f32 either way for now: passes.ts blocksSparseFor). */
  tensorCores?: TensorCoreMode;
}

export interface SampleInput extends AttentionInput {
  /** (kvHeads, S, d) f32; without it there is no output error (recall and density still come). */
  v?: Tensor;
  /** One setting for every head, or one per query head: a HeadSetting of either variant, or plain
   * SampleParams (the tokens variant). Heads of different variants and block sizes mix freely. */
  params: SettingLike | readonly SettingLike[];
  /** (heads, S) f32: the dense log-sum-exp of q, k at this scale when it is known already (the
   * prefill's flash pass). Without v it replaces the dense pass, whose output only the output
   * error needs; it is copied, not kept. */
  denseLse?: Tensor;
}

export interface SampleTensors {
  /** (heads, S) f32: what the head view draws on the key axis: tokens heads' stage-1 column
   * scores c_j; blocks heads' column-block score C_J of each key's block */
  scores: Tensor;
  /** (heads, S) u32: mask plane col (gpu/sample/mask-planes.ts; either variant) */
  colMask: Tensor;
  /** (heads, S) u32: mask plane diagCum, kept diagonal offsets in 0..o */
  diagCum: Tensor;
  /** dense out (heads, S, d) f32 and lse (heads, S) f32 */
  dense: DenseOutputs;
  /** sparse lse (heads, S) f32 and, with v, out (heads, S, d) f32 */
  sparse: SparseOutputs;
  /** (heads, S) f32: R_i */
  recall: Tensor;
}

export interface SampleRun {
  heads: HeadResult[];
  tensors: SampleTensors;
  /** Pooled maps (max P, sum P, kept fraction, missed mass) of the chosen heads, read back. */
  pool(req: PoolRequest): Promise<Record<(typeof POOL_PLANES)[number], PooledMap>[]>;
  dispose(): void;
}

/** Every group's stages and sparse pass, the dense pass and the measures for every head, in one submission. */
export async function runSampleAttention(ctx: GpuContext, input: SampleInput): Promise<SampleRun> {
  const { q, k, v, heads, S, d, timer } = input;
  const shape: AttentionShape = { heads, kvHeads: input.kvHeads, S, d };
  checkAttentionShape('runSampleAttention', shape, q, k, v);
  const scale = input.scale ?? 1 / Math.sqrt(d);
  const settings = perHeadSettings(input.params, heads);
  const tc = input.tensorCores;
  const reuseLse = !v && input.denseLse;
  if (reuseLse && reuseLse.shape.join() !== [heads, S].join()) throw new RangeError(`runSampleAttention: denseLse has shape [${reuseLse.shape.join(', ')}]; (heads, S) = (${heads}, ${S}).`);
  const dense = createDenseOutputs(ctx, shape);
  if (reuseLse) {
    const enc = ctx.device.createCommandEncoder({ label: 'SampleAttention: the known dense lse' });
    enc.copyBufferToBuffer(reuseLse.buffer, 0, dense.lse.buffer, 0, heads * S * 4);
    ctx.device.queue.submit([enc.finish()]);
  }
  const sparse = createSparseOutputs(ctx, shape, !!v);
  const planes = createMaskPlanes(ctx, heads, S);
  const meas = createMeasureOutputs(ctx, heads, S, !!v);
  const disposeAll = () => {
    destroyDenseOutputs(dense);
    destroySparseOutputs(sparse);
    destroyMaskPlanes(planes);
    destroyMeasureOutputs(meas);
  };
  let plan;
  try {
    plan = selectionPlan(ctx, shape, q, k, v, settings, scale, tc, { out: sparse.out, lse: sparse.lse }, planes);
  } catch (e) {
    disposeAll();
    throw e;
  }
  // On tensor cores the dense pass reads f16 K / V, converted in its own steps (the selection
  // plan converts its groups' inputs the same way).
  const kv16 = reuseLse ? undefined : kvHalvesFor(ctx, tc, k, v);
  const steps: Step[] = [
    ...plan.steps,
    // Without v the dense pass still runs for its lse (recall needs the full P; k stands in for
    // v), unless that lse is known already.
    ...(kv16?.dispatches ?? []),
    ...(reuseLse ? [] : [flashFor(ctx, tc, shape, q, kv16?.k ?? k, kv16 ? kv16.v ?? kv16.k : v ?? k, dense, scale)]),
    measuresDispatch(ctx, { heads, S, d, lseDense: dense.lse, lseSparse: sparse.lse, col: planes.col.buffer, diagCum: planes.diagCum.buffer, outDense: v ? dense.out : undefined, outSparse: sparse.out }, meas),
  ];
  try {
    await checked(ctx.device, 'SampleAttention', () => runSteps(ctx, steps, timer)).finally(() => destroyAll(kv16?.k, kv16?.v));
    const parts = await plan.read();
    const recall = await readTensor(ctx, meas.recall);
    const m = await readMeasures(ctx, meas, heads, S, !!v);
    const results = parts.map((p, h) => ({
      ...p,
      recallMean: m[h].recallMean,
      recallMin: m[h].recallMin,
      recallP5: percentile(recall.subarray(h * S, (h + 1) * S), 5),
      density: m[h].density,
      ...(v ? { outputError: m[h].outputError } : {}),
    }) as HeadResult);
    // The groups' stage buffers and the measure stats are not needed for drawing.
    plan.free();
    destroyAll(meas.stats);
    const tensors: SampleTensors = { scores: planes.scores, colMask: planes.col, diagCum: planes.diagCum, dense, sparse, recall: meas.recall };
    return {
      heads: results,
      tensors,
      pool: (req) => poolMaps(ctx, shape, q, k, tensors, req, scale),
      dispose: () => destroyAll(planes.scores, planes.col, planes.diagCum, dense.out, dense.lse, sparse.out, sparse.lse, sparse.placeholder, meas.recall, meas.placeholder),
    };
  } catch (e) {
    plan.free();
    disposeAll();
    throw e;
  }
}

async function poolMaps(ctx: GpuContext, shape: AttentionShape, q: Tensor, k: Tensor, t: SampleTensors, req: PoolRequest, scale: number): Promise<Record<(typeof POOL_PLANES)[number], PooledMap>[]> {
  const { rows, cols, block } = poolGrid(shape.S, req.B, req.viewport);
  const pooled = createPooled(ctx, shape.S, req);
  try {
    await checked(ctx.device, 'pooled maps', () => run(ctx, [poolDispatch(ctx, shape, q, k, t.dense.lse, t.colMask.buffer, t.diagCum.buffer, req, pooled, scale)]));
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
  const kv16 = kvHalvesFor(ctx, input.tensorCores, input.k, input.v); // tensor cores: f16 K / V
  try {
    await checked(ctx.device, 'dense attention', () => run(ctx, [...(kv16?.dispatches ?? []), flashFor(ctx, input.tensorCores, shape, input.q, kv16?.k ?? input.k, kv16?.v ?? input.v, o, input.scale)], input.timer));
  } catch (e) {
    destroyDenseOutputs(o);
    throw e;
  } finally {
    destroyAll(kv16?.k, kv16?.v);
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
