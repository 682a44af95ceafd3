// Host wrapper of the pooled attention / mask maps (pool.wgsl): a (B, B) grid per head for drawing
// at any S, from q, k, the dense log-sum-exp and the stage-2 key mask.
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { f32, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import poolWgsl from './pool.wgsl';

/** Planes of the pooled output, in order. */
export const POOL_PLANES = ['maxP', 'sumP', 'keptFraction', 'missedMass'] as const;

export interface PoolRequest {
  /** Grid side; block = ceil(S / B) rows and keys per cell. B is clipped to S. */
  B: number;
  headStart: number;
  headCount: number;
}

export function poolBlock(S: number, B: number): { B: number; block: number } {
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`pool: grid side B must be a positive integer, got ${B}.`);
  const side = Math.min(B, S);
  return { B: side, block: Math.ceil(S / side) };
}

/** (headCount, 4, B, B) f32, NaN-poisoned: planes POOL_PLANES. */
export function createPooled(ctx: GpuContext, S: number, req: PoolRequest): Tensor {
  const { B } = poolBlock(S, req.B);
  return createTensor(ctx, 'pooled maps', [req.headCount, 4, B, B], true); // (headCount, 4, B, B) f32
}

export function poolDispatch(ctx: GpuContext, s: AttentionShape, q: Tensor, k: Tensor, lse: Tensor, keyMask: GPUBuffer, windows: GPUBuffer, req: PoolRequest, pooled: Tensor, scale = 1 / Math.sqrt(s.d)): Dispatch {
  checkAttentionShape('pool', s, q, k);
  const { B, block } = poolBlock(s.S, req.B);
  if (!Number.isInteger(req.headStart) || !Number.isInteger(req.headCount) || req.headStart < 0 || req.headCount < 1 || req.headStart + req.headCount > s.heads) {
    throw new RangeError(`pool: heads ${req.headStart} .. ${req.headStart + req.headCount - 1} are not within 0 .. ${s.heads - 1}.`);
  }
  const want = [req.headCount, 4, B, B];
  if (pooled.shape.join() !== want.join()) throw new RangeError(`pool: output has shape (${pooled.shape.join(', ')}); expected (${want.join(', ')}); make it with createPooled.`);
  return {
    kernel: { label: 'pool maps', code: poolWgsl, constants: { D: s.d } },
    buffers: [q.buffer, k.buffer, lse.buffer, keyMask, windows, pooled.buffer],
    params: [u32(s.S), u32(B), u32(block), u32(req.headStart), u32(s.heads / s.kvHeads), f32(scale), u32(0), u32(0)],
    workgroups: [B, B, req.headCount],
  };
}
