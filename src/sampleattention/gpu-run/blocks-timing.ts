// Kernel times of the `blocks` variant, the one home of how they are timed: its stages 1+2 (row
// pass, strip sums, stage 2) and its block-sparse pass beside dense flash attention of the same
// precision, each from timestamp queries, median of `repeats` after one untimed warm-up of all
// three. `sa-studio bench --variant blocks` (bench/blocks.ts) and the studio's latency panel
// (src/engine/studio-engine.ts) both call timeBlocksKernels, so they time the same dispatches.
import { checked, type GpuContext } from '../../../gpu/device';
import { run, timed } from '../../../gpu/kernel';
import { GpuTimer, median } from '../../../gpu/timing';
import { destroyAll, type Tensor } from '../../../gpu/tensor';
import type { AttentionShape } from '../../../gpu/attention/shapes';
import { createDenseOutputs, destroyDenseOutputs } from '../../../gpu/attention/flash';
import { uploadSampledRows } from '../../../gpu/sample/stage1';
import { createBlocksStages, destroyBlocksStages, type BlocksStageOutputs } from '../../../gpu/sample/blocks-stages';
import { createBlocksSparseOutputs, destroyBlocksSparseOutputs, type BlocksSparseOutputs } from '../../../gpu/sample/blocks-sparse';
import type { TensorCoreMode } from '../../../gpu/tensorcore/support';
import { blocksSampledRows, validateBlocksParams, type BlocksParams } from '../spec/blocks/params';
import { blocksSparseFor, blocksStagesFor, flashFor } from './passes';
import { kvHalvesFor } from '../../../gpu/tensorcore/convert';

export interface BlocksKernelTimes {
  /** Dense flash attention of the same heads and precision. */
  denseMs: number;
  /** Stages 1+2: row pass, strip sums, stage 2 (the blocks' whole selection). */
  stagesMs: number;
  /** The block-sparse pass over the blocks and bands the timed stages kept. */
  sparseMs: number;
}

export interface BlocksTimingInput {
  shape: AttentionShape;
  /** q (heads, S, d), k and v (kvHeads, S, d), f32. */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** One setting for every head. */
  params: BlocksParams;
  repeats: number;
  /** f16 tensor-core kernels in this mode; f32 when absent. */
  tensorCores?: TensorCoreMode;
}

/** What the last timed run left, for a caller that checks it (bench/blocks.ts reads the kept
 * blocks, tiles visited and output) before the buffers are freed. */
export interface BlocksTimedRun {
  stages: BlocksStageOutputs;
  sparse: BlocksSparseOutputs;
  /** The sampled rows of every head (blocksSampledRows). */
  rows: number[];
}

/** Median kernel times of the blocks variant on `o`'s heads; `inspect` sees the buffers of the
 * last run before they are freed. Needs the timestamp-query feature. */
export async function timeBlocksKernels<T = undefined>(ctx: GpuContext, o: BlocksTimingInput, inspect?: (r: BlocksTimedRun) => Promise<T>): Promise<BlocksKernelTimes & { inspected?: T }> {
  validateBlocksParams(o.params);
  if (!ctx.hasTimestamps) throw new Error('blocks kernel timing needs the timestamp-query feature; this adapter has none.');
  if (!(Number.isInteger(o.repeats) && o.repeats >= 1)) throw new RangeError(`blocks kernel timing: repeats must be a positive integer, got ${o.repeats}.`);
  const { shape: s, params: p, q, k, v } = o;
  const tc = o.tensorCores;
  const b = p.blockSize;
  const rows = blocksSampledRows(s.S, b, p.rowRatio);
  const sr = uploadSampledRows(ctx, s.S, Array.from({ length: s.heads }, () => rows));
  const st = createBlocksStages(ctx, s, b, Array(s.heads).fill({ alphaColumn: p.alphaColumn, alphaSlash: p.alphaSlash }), Array(s.heads).fill(rows.length), sr.nMax);
  const sp = createBlocksSparseOutputs(ctx, s);
  const dense = createDenseOutputs(ctx, s);
  let timer: GpuTimer | null = null;
  // On tensor cores the dense and block-sparse passes read f16 K / V, converted once before the
  // timed runs as bench/attention.ts does (the stages' strip sums read f32 k).
  const kv16 = kvHalvesFor(ctx, tc, k, v);
  try {
    const stages = blocksStagesFor(ctx, tc, s, q, k, sr, b, st);
    const sparseD = blocksSparseFor(ctx, tc, s, q, kv16?.k ?? k, kv16?.v ?? v, b, st.kept.buffer, sp);
    const denseD = flashFor(ctx, tc, s, q, kv16?.k ?? k, kv16?.v ?? v, dense);
    // One pass per dispatch of the largest timed group (the stages).
    timer = new GpuTimer(ctx, Math.max(1, stages.length));
    const precision = tc ? 'f16' : 'f32';
    await checked(ctx.device, `blocks timing warm-up (${precision})`, () => run(ctx, [...(kv16?.dispatches ?? []), ...stages, sparseD, denseD]));
    const dt: number[] = [], stt: number[] = [], spt: number[] = [];
    for (let r = 0; r < o.repeats; r++) {
      dt.push(await timed(ctx, timer, [denseD]));
      stt.push(await timed(ctx, timer, stages));
      spt.push(await timed(ctx, timer, [sparseD]));
    }
    const inspected = inspect ? await inspect({ stages: st, sparse: sp, rows }) : undefined;
    return { denseMs: median(dt), stagesMs: median(stt), sparseMs: median(spt), inspected };
  } finally {
    timer?.destroy();
    destroyBlocksStages(st);
    destroyBlocksSparseOutputs(sp);
    destroyDenseOutputs(dense);
    destroyAll(sr.rows, sr.nRows, kv16?.k, kv16?.v);
  }
}
