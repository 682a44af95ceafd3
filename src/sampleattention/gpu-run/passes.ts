// The GPU passes of one group of heads, one home each for the precision choice: the dense
// (flash) pass, the `tokens` variant's stages 1-2 and sparse pass, the `blocks` variant's stages
// and sparse pass. Used by the measured run (layer-run.ts) and the measure-free prefill (prefill-attention.ts)
// through selection-plan.ts.
import type { GpuContext } from '../../../gpu/device';
import type { Dispatch } from '../../../gpu/kernel';
import { destroyAll, uploadU32, type Tensor } from '../../../gpu/tensor';
import type { AttentionShape } from '../../../gpu/attention/shapes';
import { flashDispatch, type DenseOutputs } from '../../../gpu/attention/flash';
import { createStage1Outputs, destroyStage1, ROW_SPLITS_MAX, stage1Dispatches, uploadSampledRows, type SampledRows } from '../../../gpu/sample/stage1';
import { createStage2, destroyStage2, stage2Dispatches } from '../../../gpu/sample/stage2';
import { sparseDispatch, type KeySets, type SparseOutputs } from '../../../gpu/sample/sparse';
import { blocksSparseDispatch, type BlocksSparseOutputs } from '../../../gpu/sample/blocks-sparse';
import { blocksStageDispatches, type BlocksStageOutputs } from '../../../gpu/sample/blocks-stages';
import { blocksStageF16Dispatches } from '../../../gpu/tensorcore/blocks-stages';
import { blocksSparseF16Dispatch, flashF16Dispatch, sparseF16Dispatch, stage1F16Dispatches } from '../../../gpu/tensorcore/attention';
import type { TensorCoreMode } from '../../../gpu/tensorcore/support';
import { sampledRows, windowSize, type SampleParams } from '../spec/params';

/** The buffers and dispatches of the tokens variant's stages 1 and 2 for every head of `shape`
 * (sampled rows, column scores, the kept keys). */
export function selectionStages(ctx: GpuContext, shape: AttentionShape, q: Tensor, k: Tensor, params: readonly SampleParams[], scale: number, tc?: TensorCoreMode) {
  const { heads, S } = shape;
  const rows = params.map((p) => sampledRows(S, p.rowRatio));
  const windowsHost = params.map((p) => windowSize(S, p.windowRatio));
  const sr = uploadSampledRows(ctx, S, rows);
  const s1 = createStage1Outputs(ctx, shape, sr.nMax, tc ? ROW_SPLITS_MAX : 1);
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
export const flashFor = (ctx: GpuContext, tc: TensorCoreMode | undefined, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, o: DenseOutputs, scale?: number): Dispatch =>
  tc ? flashF16Dispatch(ctx, tc, s, q, k, v, o, scale) : flashDispatch(ctx, s, q, k, v, o, scale);

/** The tokens sparse pass over the kept keys, on tensor cores when tc is set, in f32 otherwise. */
export const sparseFor = (ctx: GpuContext, tc: TensorCoreMode | undefined, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor | undefined, keys: KeySets, o: SparseOutputs, scale?: number): Dispatch =>
  tc ? sparseF16Dispatch(ctx, tc, s, q, k, v, keys, o, scale) : sparseDispatch(ctx, s, q, k, v, keys, o, scale);

/** The blocks variant's block-sparse pass over the kept blocks and bands ((2, heads, nb) u32), on
 * tensor cores when tc is set (same outputs and tiles-visited counts), in f32 otherwise. */
export const blocksSparseFor = (ctx: GpuContext, tc: TensorCoreMode | undefined, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, b: number, kept: GPUBuffer, o: BlocksSparseOutputs, scale?: number): Dispatch =>
  tc ? blocksSparseF16Dispatch(ctx, tc, s, q, k, v, b, kept, o, scale) : blocksSparseDispatch(ctx, s, q, k, v, b, kept, o, scale);

/** The blocks variant's stages 1 and 2 (row pass, strip sums, selection of both kinds), with the
 * row pass and column sums on tensor cores when tc is set. */
export const blocksStagesFor = (ctx: GpuContext, tc: TensorCoreMode | undefined, s: AttentionShape, q: Tensor, k: Tensor, rows: SampledRows, b: number, o: BlocksStageOutputs, scale?: number): Dispatch[] =>
  tc ? blocksStageF16Dispatches(ctx, tc, s, q, k, rows, b, o, scale) : blocksStageDispatches(ctx, s, q, k, rows, b, o, scale);
