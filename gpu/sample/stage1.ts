// Host wrapper of SampleAttention stage 1: the sampled rows' log-sum-exp, then the column scores
// c_j (heads, S), for all heads in two dispatches, both on the register-tiled attention loop
// (gpu/attention/tiled.wgsl): `attend` in sampled-row mode gathers the sampled rows of Q into
// query tiles (no V), `column_sums` keeps a key tile resident and streams the sampled rows past it.
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { ceilDiv, f32, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll, uploadU32 } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import { checkTile, chooseTile, tiledSource, type AttentionTile } from '../attention/tiled';

export interface SampledRows {
  /** (heads, nMax) u32: head h's rows, ascending, in its first nRows[h] slots (rest 0). */
  rows: GPUBuffer;
  /** (heads) u32 */
  nRows: GPUBuffer;
  nMax: number;
}

/** Uploads one ascending row list per head. */
export function uploadSampledRows(ctx: GpuContext, S: number, perHead: readonly (readonly number[])[]): SampledRows {
  const nMax = Math.max(1, ...perHead.map((r) => r.length));
  const flat = new Uint32Array(perHead.length * nMax);
  perHead.forEach((r, h) => {
    if (r.length < 1) throw new RangeError(`stage 1: head ${h} has no sampled rows; n must be >= 1.`);
    r.forEach((i, c) => {
      if (!Number.isInteger(i) || i < 0 || i >= S) throw new RangeError(`stage 1: head ${h} sampled row ${i} is outside 0..${S - 1}.`);
      if (c > 0 && i <= r[c - 1]) throw new RangeError(`stage 1: head ${h} sampled rows must be strictly ascending (row ${i} after ${r[c - 1]}).`);
      flat[h * nMax + c] = i;
    });
  });
  return {
    rows: uploadU32(ctx, 'sampled rows', flat), // (heads, nMax) u32
    nRows: uploadU32(ctx, 'sampled row counts', perHead.map((r) => r.length)), // (heads) u32
    nMax,
  };
}

/** Most key ranges the tensor-core row pass splits a block of sampled rows into (rowSplits in
 * gpu/tensorcore/flash.ts); its partial lse go to Stage1Outputs.rowParts. */
export const ROW_SPLITS_MAX = 8;

export interface Stage1Outputs {
  /** (heads, nMax) f32 */
  rowLse: Tensor;
  /** (heads, splits, nMax) f32, splits <= ROW_SPLITS_MAX: the tensor-core row pass's partial lse
   * per key range (scratch; the f32 kernel does not use it). */
  rowParts: Tensor;
  /** (heads, S) f32: c_j */
  scores: Tensor;
}

/** rowSplits: the key ranges rowParts holds (1 where only the f32 kernel runs). */
export function createStage1Outputs(ctx: GpuContext, s: AttentionShape, nMax: number, rowSplits = ROW_SPLITS_MAX): Stage1Outputs {
  return {
    rowLse: createTensor(ctx, 'stage1 row lse', [s.heads, nMax], true), // (heads, nMax) f32
    rowParts: createTensor(ctx, 'stage1 row lse per key range', [s.heads, rowSplits, nMax], true), // (heads, rowSplits, nMax) f32
    scores: createTensor(ctx, 'stage1 column scores', [s.heads, s.S], true), // (heads, S) f32
  };
}

export function destroyStage1(o: Stage1Outputs, rows?: SampledRows): void {
  destroyAll(o.rowLse, o.rowParts, o.scores, rows?.rows, rows?.nRows);
}

/** `tile` forces a tile shape (tests); both dispatches use it. */
export function stage1Dispatches(ctx: GpuContext, s: AttentionShape, q: Tensor, k: Tensor, rows: SampledRows, o: Stage1Outputs, scale = 1 / Math.sqrt(s.d), tile?: AttentionTile): Dispatch[] {
  checkAttentionShape('stage 1', s, q, k);
  const t = tile ?? chooseTile(ctx.device, s.d, false);
  if (tile) checkTile(ctx.device, tile, s.d, false);
  const code = tiledSource(t, s.d, 'rows', false);
  // q stands in for the unused v and window bindings (read-only, never read).
  const buffers = [q.buffer, k.buffer, q.buffer, rows.rows, rows.nRows, q.buffer, o.scores.buffer, o.rowLse.buffer];
  const params = [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(rows.nMax)];
  return [
    { kernel: { label: 'stage1 row lse', code, entryPoint: 'attend' }, buffers, params, workgroups: [ceilDiv(rows.nMax, 4 * t.TY), s.heads] },
    { kernel: { label: 'stage1 column sums', code, entryPoint: 'column_sums' }, buffers, params, workgroups: [ceilDiv(s.S, 4 * t.TX), s.heads] },
  ];
}
