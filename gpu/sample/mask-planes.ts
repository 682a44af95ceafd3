// Host wrapper of the mask planes (mask-planes.wgsl): every head's mask, of either variant, as a
// key-column plane and a cumulative diagonal plane, written per group of heads from that group's
// stage-2 outputs, for the measures and the pooled maps.
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { ceilDiv, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor, destroyAll, uploadU32 } from '../tensor';
import planesWgsl from './mask-planes.wgsl';

export interface MaskPlaneTensors {
  /** (heads, S) u32: 1 = key column j kept on every row i >= j */
  col: Tensor;
  /** (heads, S) u32: kept diagonal offsets in 0..o */
  diagCum: Tensor;
  /** (heads, S) f32: what the head view draws on the key axis (tokens c_j; blocks C_J of j's block) */
  scores: Tensor;
}

/** NaN-poisoned (u32 0x7fc00000 too), so a head no group wrote shows. */
export function createMaskPlanes(ctx: GpuContext, heads: number, S: number): MaskPlaneTensors {
  return {
    col: createTensor(ctx, 'mask plane col', [heads, S], true), // (heads, S) u32
    diagCum: createTensor(ctx, 'mask plane diagCum', [heads, S], true), // (heads, S) u32
    scores: createTensor(ctx, 'mask plane scores', [heads, S], true), // (heads, S) f32
  };
}

export function destroyMaskPlanes(p: MaskPlaneTensors): void {
  destroyAll(p.col, p.diagCum, p.scores);
}

/** The layer heads of a group's heads, as the (gh) u32 buffer the kernel reads. */
export function uploadHeadMap(ctx: GpuContext, heads: readonly number[]): GPUBuffer {
  return uploadU32(ctx, 'group head map', heads); // (gh) u32
}

function check(what: string, planes: MaskPlaneTensors, S: number, dst: readonly number[]): void {
  const heads = planes.col.shape[0];
  if (planes.col.shape[1] !== S) throw new RangeError(`${what}: planes are for S = ${planes.col.shape[1]}, not ${S}.`);
  for (const h of dst) if (!Number.isInteger(h) || h < 0 || h >= heads) throw new RangeError(`${what}: head ${h} is outside 0..${heads - 1}.`);
}

/** A tokens group: keyMask (gh, S) u32 (stage 2), windows (gh) u32, scores (gh, S) f32 (stage 1). */
export function tokensPlanesDispatch(ctx: GpuContext, S: number, dst: readonly number[], dstBuf: GPUBuffer, keyMask: GPUBuffer, windows: GPUBuffer, scores: GPUBuffer, planes: MaskPlaneTensors): Dispatch {
  check('tokens mask planes', planes, S, dst);
  return {
    kernel: { label: 'tokens mask planes', code: planesWgsl, entryPoint: 'tokens_planes' },
    buffers: [keyMask, windows, scores, dstBuf, planes.col.buffer, planes.diagCum.buffer, planes.scores.buffer],
    params: [u32(S), u32(dst.length), u32(1), u32(0)],
    workgroups: [ceilDiv(S, 256), dst.length],
  };
}

/** A blocks group of block size b: kept (2, gh, nb) u32 and strips (2, gh, nb) f32 (blocks-stages.ts). */
export function blocksPlanesDispatch(ctx: GpuContext, S: number, b: number, dst: readonly number[], dstBuf: GPUBuffer, kept: GPUBuffer, strips: GPUBuffer, planes: MaskPlaneTensors): Dispatch {
  check('blocks mask planes', planes, S, dst);
  if (!Number.isInteger(b) || b < 1) throw new RangeError(`blocks mask planes: block size ${b} must be a positive integer.`);
  return {
    kernel: { label: 'blocks mask planes', code: planesWgsl, entryPoint: 'blocks_planes' },
    buffers: [kept, null, strips, dstBuf, planes.col.buffer, planes.diagCum.buffer, planes.scores.buffer],
    params: [u32(S), u32(dst.length), u32(b), u32(Math.ceil(S / b))],
    workgroups: [dst.length],
  };
}

/** Planes given on the host (tests, benchmarks): col and diag (heads, S) 0/1 each. */
export function uploadMaskPlanes(ctx: GpuContext, heads: number, S: number, col: ArrayLike<number>, diagCum: ArrayLike<number>): MaskPlaneTensors {
  if (col.length !== heads * S || diagCum.length !== heads * S) throw new RangeError(`mask planes: col and diagCum need (heads, S) = ${heads * S} values each; got ${col.length} and ${diagCum.length}.`);
  const p = createMaskPlanes(ctx, heads, S);
  ctx.device.queue.writeBuffer(p.col.buffer, 0, Uint32Array.from(col));
  ctx.device.queue.writeBuffer(p.diagCum.buffer, 0, Uint32Array.from(diagCum));
  ctx.device.queue.writeBuffer(p.scores.buffer, 0, new Float32Array(heads * S));
  return p;
}
