// Host wrapper of SampleAttention stage 1: the sampled rows' log-sum-exp, then the column scores
// c_j (heads, S), for all heads in two dispatches.
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { ceilDiv, f32, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll, uploadU32 } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import stage1Wgsl from './stage1.wgsl';

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

export interface Stage1Outputs {
  /** (heads, nMax) f32 */
  rowLse: Tensor;
  /** (heads, S) f32: c_j */
  scores: Tensor;
}

export function createStage1Outputs(ctx: GpuContext, s: AttentionShape, nMax: number): Stage1Outputs {
  return {
    rowLse: createTensor(ctx, 'stage1 row lse', [s.heads, nMax], true), // (heads, nMax) f32
    scores: createTensor(ctx, 'stage1 column scores', [s.heads, s.S], true), // (heads, S) f32
  };
}

export function destroyStage1(o: Stage1Outputs, rows?: SampledRows): void {
  destroyAll(o.rowLse, o.scores, rows?.rows, rows?.nRows);
}

/** Key columns per workgroup and row lanes that fit the adapter's workgroup memory. */
function columnTiles(device: GPUDevice, d: number): { KB: number; RL: number } {
  const limit = device.limits.maxComputeWorkgroupStorageSize;
  for (const KB of [32, 16, 8]) {
    const RL = 8;
    const bytes = 4 * (KB * (d + 1) + RL * d + 2 * RL + RL * KB + 2) + 4 * (d + 128);
    if (bytes <= limit && KB * RL <= device.limits.maxComputeInvocationsPerWorkgroup) return { KB, RL };
  }
  throw new Error(`stage 1: no column tile fits d = ${d} in ${limit} bytes of workgroup memory.`);
}

export function stage1Dispatches(ctx: GpuContext, s: AttentionShape, q: Tensor, k: Tensor, rows: SampledRows, o: Stage1Outputs, scale = 1 / Math.sqrt(s.d)): Dispatch[] {
  checkAttentionShape('stage 1', s, q, k);
  const { KB, RL } = columnTiles(ctx.device, s.d);
  const code = stage1Wgsl;
  const buffers = [q.buffer, k.buffer, rows.rows, rows.nRows, o.rowLse.buffer, o.scores.buffer];
  const params = [u32(s.S), u32(s.heads / s.kvHeads), u32(rows.nMax), f32(scale)];
  return [
    { kernel: { label: 'stage1 row lse', code, entryPoint: 'row_lse', constants: { D: s.d, KB, RL } }, buffers, params, workgroups: [rows.nMax, s.heads] },
    { kernel: { label: 'stage1 column sums', code, entryPoint: 'column_sums', constants: { D: s.d, KB, RL } }, buffers, params, workgroups: [ceilDiv(s.S, KB), s.heads] },
  ];
}
