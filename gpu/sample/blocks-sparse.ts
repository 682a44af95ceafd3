// Host wrapper of the `blocks` variant's block-sparse attention (blocks-attend.wgsl): all heads
// in one dispatch; the kept blocks and bands come from the GPU stage 2 (blocks-stages.ts `kept`)
// or from the host (uploadBlocksKept).
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { ceilDiv, f32, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll, uploadU32 } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import attendWgsl from './blocks-attend.wgsl';
import blocksMaskWgsl from './blocks-mask.wgsl';

/** Query rows per workgroup (BQ in blocks-attend.wgsl). */
export const BLOCKS_BQ = 64;

/** Keys per tile: K and V tiles (BK x d f32 each) must fit the adapter's workgroup memory; at
 * most 32 (a thread keeps BK scores in registers). */
export function blocksKeyTile(device: GPUDevice, d: number): number {
  const bk = Math.min(32, Math.floor((device.limits.maxComputeWorkgroupStorageSize - 16) / (8 * d))); // 16 bytes: sKeep
  if (bk < 1) throw new Error(`blocks attention: head dimension ${d} does not fit this adapter's workgroup memory.`);
  return bk;
}

/** Kept column blocks and slash bands per head, given on the host, as the (2, heads, nb) 0/1
 * buffer the kernel reads. Band 0 must be kept (the spec keeps it; rows need their diagonal). */
export function uploadBlocksKept(ctx: GpuContext, S: number, b: number, columnBlocks: readonly (readonly number[])[], slashBands: readonly (readonly number[])[]): GPUBuffer {
  const heads = columnBlocks.length, nb = Math.ceil(S / b);
  if (slashBands.length !== heads) throw new RangeError(`blocks attention: ${slashBands.length} band lists for ${heads} block lists; give one of each per head.`);
  const flags = new Uint32Array(2 * heads * nb);
  const put = (kind: number, lists: readonly (readonly number[])[], what: string) =>
    lists.forEach((xs, h) => xs.forEach((x) => {
      if (!Number.isInteger(x) || x < 0 || x >= nb) throw new RangeError(`blocks attention: head ${h} ${what} ${x} is outside 0..${nb - 1}.`);
      flags[(kind * heads + h) * nb + x] = 1;
    }));
  put(0, columnBlocks, 'column block');
  put(1, slashBands, 'slash band');
  slashBands.forEach((xs, h) => {
    if (!xs.includes(0)) throw new RangeError(`blocks attention: head ${h} does not keep slash band 0; the variant always keeps it (every row needs its diagonal).`);
  });
  return uploadU32(ctx, 'blocks kept', flags); // (2, heads, nb) u32
}

export interface BlocksSparseOutputs {
  /** (heads, S, d) f32 */
  out: Tensor;
  /** (heads, S) f32: log of the sum over M_i of exp(scale q_i . k_j) */
  lse: Tensor;
  /** (heads, ceil(S / 64)) u32: key tiles each query tile visited (the rest were skipped) */
  tiles: Tensor;
}

export function createBlocksSparseOutputs(ctx: GpuContext, s: AttentionShape): BlocksSparseOutputs {
  return {
    out: createTensor(ctx, 'blocks sparse out', [s.heads, s.S, s.d], true), // (heads, S, d) f32
    lse: createTensor(ctx, 'blocks sparse lse', [s.heads, s.S], true), // (heads, S) f32
    tiles: createTensor(ctx, 'blocks tiles visited', [s.heads, ceilDiv(s.S, BLOCKS_BQ)], true), // (heads, ceil(S/64)) u32
  };
}

export function destroyBlocksSparseOutputs(o: BlocksSparseOutputs): void {
  destroyAll(o.out, o.lse, o.tiles);
}

/** `kept` is (2, heads, ceil(S / b)) u32 (blocks-stages.ts or uploadBlocksKept); `keyTile`
 * forces BK (tests). */
/** The shape checks both precisions' block-sparse passes make; `what` names the kernel. */
export function checkBlocksSparseInputs(what: string, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, b: number, kept: GPUBuffer): void {
  checkAttentionShape(what, s, q, k, v);
  if (!Number.isInteger(b) || b < 1) throw new RangeError(`${what}: block size ${b} must be a positive integer.`);
  const nb = Math.ceil(s.S / b);
  if (kept.size < 2 * s.heads * nb * 4) throw new RangeError(`${what}: the kept buffer has ${kept.size} bytes; (2, heads, nb) = (2, ${s.heads}, ${nb}) u32 needs ${2 * s.heads * nb * 4}.`);
}

export function blocksSparseDispatch(ctx: GpuContext, s: AttentionShape, q: Tensor, k: Tensor, v: Tensor, b: number, kept: GPUBuffer, o: BlocksSparseOutputs, scale = 1 / Math.sqrt(s.d), keyTile?: number): Dispatch {
  checkBlocksSparseInputs('blocks attention', s, q, k, v, b, kept);
  const nb = Math.ceil(s.S / b);
  const max = blocksKeyTile(ctx.device, s.d);
  const bk = keyTile ?? max;
  if (!Number.isInteger(bk) || bk < 1 || bk > max) throw new RangeError(`blocks attention: key tile ${bk} must be an integer in 1..${max} at d = ${s.d}.`);
  return {
    kernel: { label: 'blocks sparse attention', code: `const D: u32 = ${s.d}u;\nconst BK: u32 = ${bk}u;\n${attendWgsl}\n${blocksMaskWgsl}`, entryPoint: 'attend' },
    buffers: [q.buffer, k.buffer, v.buffer, kept, o.out.buffer, o.lse.buffer, o.tiles.buffer],
    params: [u32(s.S), u32(s.heads / s.kvHeads), f32(scale), u32(b), u32(nb), u32(s.heads), u32(0), u32(0)],
    workgroups: [ceilDiv(s.S, BLOCKS_BQ), s.heads],
  };
}
