// Host wrapper of the `blocks` variant's stages 1 and 2 on the GPU (docs/SAMPLEATTENTION.md,
// "Variant `blocks`"), for all heads: the sampled rows' log-sum-exp (tiled.wgsl MODE 2, through
// stage1.ts), the column-block and slash-band scores (blocks-stage1.wgsl), and the kept blocks
// and bands of both kinds (blocks-select.wgsl). Five dispatches (the strip sums
// take three), no copy to the host. The tensor-core twin (gpu/tensorcore/blocks-stages.ts) shares
// all but the row pass (blocksStripDispatches).
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { f32, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import { createStage1Outputs, destroyStage1, stage1Dispatches, type SampledRows, type Stage1Outputs } from './stage1';
import stage1Wgsl from './blocks-stage1.wgsl';
import selectWgsl from './blocks-select.wgsl';

export interface BlocksStageOutputs {
  /** Row pass of stage1.ts; its column-score tensor (heads, S) is used by the tensor-core path only. */
  rowPass: Stage1Outputs;
  /** (2, heads, S) f32 scratch of the strip sums: c_j (key j's column score) of every head, then
   * e_d (distance d's diagonal score) of every head; strips are their block sums. */
  sums: Tensor;
  /** (2, heads, nb) f32: C_J of every head, then D_o of every head. */
  strips: Tensor;
  /** (heads, 4) f32 input: alphaColumn, alphaSlash, |R|, unused. */
  headParams: Tensor;
  /** (2, heads, nb) u32: each kind's indices in stage-2 order. */
  order: Tensor;
  /** (2, heads, nb) u32: 1 = column block (kind 0) / slash band (kind 1) kept. */
  kept: Tensor;
  /** (2, heads, 2) u32: kept count, then the stage-1 estimate as f32 bits. */
  stats: Tensor;
  nb: number;
}

export interface BlocksHeadParams {
  blockSize: number;
  alphaColumn: number;
  alphaSlash: number;
}

/** One block size for all heads (it sets the shape of every output); alphas per head; rowCounts
 * = |R| per head. u32 outputs are NaN-poisoned too (0x7fc00000), so a missed write shows. */
export function createBlocksStages(ctx: GpuContext, s: AttentionShape, b: number, alphas: readonly { alphaColumn: number; alphaSlash: number }[], rowCounts: readonly number[], nMax: number): BlocksStageOutputs {
  if (!Number.isInteger(b) || b < 1) throw new RangeError(`blocks stages: block size ${b} must be a positive integer.`);
  if (alphas.length !== s.heads || rowCounts.length !== s.heads) throw new RangeError(`blocks stages: need one alpha pair and one |R| per head (${s.heads}); got ${alphas.length} and ${rowCounts.length}.`);
  const nb = Math.ceil(s.S / b);
  const hp = new Float32Array(s.heads * 4);
  alphas.forEach((a, h) => {
    for (const [name, x] of [['alphaColumn', a.alphaColumn], ['alphaSlash', a.alphaSlash]] as const) {
      if (!(x > 0 && x <= 1)) throw new RangeError(`blocks stages: head ${h} ${name} ${x} is outside (0, 1].`);
    }
    if (!(Number.isInteger(rowCounts[h]) && rowCounts[h] >= 1)) throw new RangeError(`blocks stages: head ${h} |R| = ${rowCounts[h]} must be a positive integer.`);
    hp.set([a.alphaColumn, a.alphaSlash, rowCounts[h], 0], 4 * h);
  });
  const headParams = createTensor(ctx, 'blocks alphas, |R|', [s.heads, 4]); // (heads, 4) f32
  ctx.device.queue.writeBuffer(headParams.buffer, 0, hp);
  return {
    rowPass: createStage1Outputs(ctx, s, nMax),
    sums: createTensor(ctx, 'blocks column and diagonal scores', [2, s.heads, s.S], true), // (2, heads, S) f32
    strips: createTensor(ctx, 'blocks strip scores', [2, s.heads, nb], true), // (2, heads, nb) f32
    headParams,
    order: createTensor(ctx, 'blocks stage-2 order', [2, s.heads, nb], true), // (2, heads, nb) u32
    kept: createTensor(ctx, 'blocks kept', [2, s.heads, nb], true), // (2, heads, nb) u32
    stats: createTensor(ctx, 'blocks stage-2 stats', [2, s.heads, 2], true), // (2, heads, 2) u32
    nb,
  };
}

export function destroyBlocksStages(o: BlocksStageOutputs): void {
  destroyStage1(o.rowPass);
  destroyAll(o.sums, o.strips, o.headParams, o.order, o.kept, o.stats);
}

/** The shape checks of both precisions' stages. */
export function checkBlocksStages(what: string, s: AttentionShape, q: Tensor, k: Tensor, b: number, o: BlocksStageOutputs): void {
  checkAttentionShape(what, s, q, k);
  if (o.nb !== Math.ceil(s.S / b)) throw new RangeError(`blocks stages: outputs were made for ${o.nb} blocks; S = ${s.S}, b = ${b} needs ${Math.ceil(s.S / b)}.`);
}

export function blocksStageDispatches(ctx: GpuContext, s: AttentionShape, q: Tensor, k: Tensor, rows: SampledRows, b: number, o: BlocksStageOutputs, scale = 1 / Math.sqrt(s.d)): Dispatch[] {
  checkBlocksStages('blocks stage 1', s, q, k, b, o);
  const rowLse = stage1Dispatches(ctx, s, q, k, rows, o.rowPass, scale)[0]; // 'stage1 row lse' (tiled.wgsl MODE 2)
  return [rowLse, ...blocksStripDispatches(s, q, k, rows, b, o, scale, false)];
}

// x rounded to f16's 11 significant bits, ties to even, as the tensor-core kernels stage q and k,
// kept in f32. Bit arithmetic, not f32(f16(x)): compilers may fold that round trip away (Mesa's
// lavapipe does) and then the strips would see other scores than the row pass's lse. Exact over
// f16's normal range; below it (|x| < 2^-14) f16 keeps fewer bits, a difference under 2^-25.
/** Keys (column_sums) or distances (distance_sums) per workgroup: TK in blocks-stage1.wgsl. */
const STRIP_TILE = 64;

const OPERAND_F16 = 'fn operand(x: f32) -> f32 { let u = bitcast<u32>(x); return bitcast<f32>((u + 0xfffu + ((u >> 13u) & 1u)) & 0xffffe000u); }';

/** The strip sums and stage 2, after a row pass into o.rowPass. `tensorCores`: the row pass ran on
 * the tensor-core path (f16-rounded q and k, and its column scores c_j in o.rowPass.scores), so
 * the strip sums read q and k rounded to f16 too and take the column blocks from c_j (no
 * column_sums dispatch). Stage 2 is the last dispatch. */
export function blocksStripDispatches(s: AttentionShape, q: Tensor, k: Tensor, rows: SampledRows, b: number, o: BlocksStageOutputs, scale: number, tensorCores: boolean): Dispatch[] {
  const operand = tensorCores ? OPERAND_F16 : 'fn operand(x: f32) -> f32 { return x; }';
  const code = [operand, `const D: u32 = ${s.d}u;`, stage1Wgsl].join('\n');
  const suffix = tensorCores ? ' (f16 operands)' : '';
  const params = [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(rows.nMax), u32(b), u32(o.nb), u32(s.heads), u32(tensorCores ? 1 : 0)];
  // Per-key and per-distance passes: bindings 0-5 (strips and colScores unused there).
  const pairs = [q.buffer, k.buffer, rows.rows, rows.nRows, o.rowPass.rowLse.buffer, o.sums.buffer, null, null];
  const tiles = Math.ceil(s.S / STRIP_TILE);
  const perKey: Dispatch = { kernel: { label: `blocks column scores${suffix}`, code, entryPoint: 'column_sums' }, buffers: pairs, params, workgroups: [tiles, s.heads] };
  const perDistance: Dispatch = { kernel: { label: `blocks diagonal scores${suffix}`, code, entryPoint: 'distance_sums' }, buffers: pairs, params, workgroups: [tiles, s.heads] };
  return [
    ...(tensorCores ? [] : [perKey]),
    perDistance,
    {
      // colScores (binding 7) is read only on the tensor-core path; bound on both.
      kernel: { label: `blocks strip sums${suffix}`, code, entryPoint: 'strip_sums' },
      buffers: [null, null, null, null, null, o.sums.buffer, o.strips.buffer, o.rowPass.scores.buffer],
      params,
      workgroups: [o.nb, s.heads, 2],
    },
    {
      kernel: { label: 'blocks select strips', code: selectWgsl, entryPoint: 'select_strips' },
      buffers: [o.strips.buffer, o.headParams.buffer, o.order.buffer, o.kept.buffer, o.stats.buffer],
      params: [u32(o.nb), u32(s.heads), u32(0), u32(0)],
      workgroups: [s.heads, 2],
    },
  ];
}
