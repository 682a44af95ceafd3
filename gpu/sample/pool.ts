// Host wrapper of the pooled attention / mask maps (pool.wgsl): a (rows, cols) grid per head over
// a viewport of the S x S map (the whole map by default), for drawing at any S, from q, k, the
// dense log-sum-exp and the mask planes (mask-planes.ts: either variant). A viewport small enough for its grid gives block 1:
// one cell per token, the exact map.
import type { GpuContext } from '../device';
import type { Dispatch } from '../kernel';
import { f32, u32 } from '../kernel';
import type { Tensor } from '../tensor';
import { createTensor } from '../tensor';
import { checkAttentionShape, type AttentionShape } from '../attention/shapes';
import poolWgsl from './pool.wgsl';
import pairsWgsl from './pool-pairs.wgsl';
import cellWgsl from './pool-cell.wgsl';

/** Planes of the pooled output, in order. */
export const POOL_PLANES = ['maxP', 'sumP', 'keptFraction', 'missedMass'] as const;

/** Query rows [r0, r1) and keys [c0, c1) of the S x S map. */
export interface PoolViewport {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

export interface PoolRequest {
  /** Grid side: block = ceil(max(r1 - r0, c1 - c0) / B) rows and keys per cell (at least 1). */
  B: number;
  headStart: number;
  headCount: number;
  /** The part of the map to pool; the whole map when absent. */
  viewport?: PoolViewport;
}

/** The grid of a request: `rows` x `cols` cells of `block` x `block` tokens over `viewport`. */
export interface PoolGrid {
  rows: number;
  cols: number;
  block: number;
  viewport: PoolViewport;
}

export function poolGrid(S: number, B: number, viewport?: PoolViewport): PoolGrid {
  if (!Number.isInteger(B) || B < 1) throw new RangeError(`pool: grid side B must be a positive integer, got ${B}.`);
  const v = viewport ?? { r0: 0, r1: S, c0: 0, c1: S };
  for (const [lo, hi, what] of [[v.r0, v.r1, 'query rows'], [v.c0, v.c1, 'keys']] as const) {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > S || lo >= hi) {
      throw new RangeError(`pool: viewport ${what} [${lo}, ${hi}) are not a non-empty range within [0, ${S}).`);
    }
  }
  const nr = v.r1 - v.r0, nc = v.c1 - v.c0;
  const block = Math.ceil(Math.max(nr, nc) / B);
  return { rows: Math.ceil(nr / block), cols: Math.ceil(nc / block), block, viewport: { ...v } };
}

/** (headCount, 4, rows, cols) f32, NaN-poisoned: planes POOL_PLANES. */
export function createPooled(ctx: GpuContext, S: number, req: PoolRequest): Tensor {
  const { rows, cols } = poolGrid(S, req.B, req.viewport);
  return createTensor(ctx, 'pooled maps', [req.headCount, 4, rows, cols], true); // (headCount, 4, rows, cols) f32
}

/** pool.wgsl's workgroup memory besides the staged q and k tiles: sLse, sCol (T = 32 each), sDiag
 * (2T) and the five WG = 64 reduction arrays, 4 bytes an entry. */
const POOL_FIXED_BYTES = (32 + 32 + 64 + 5 * 64) * 4;
/** Bytes per staged dimension: a q and a k column of the T = 32 sub-tile. */
const POOL_BYTES_PER_DIM = 2 * 32 * 4;

/** The dimensions pool.wgsl stages at a time (its override DC) for head dimension `d` within
 * `storageBytes` of workgroup memory: as few chunks as fit, of balanced width (d = 128 in 32 KiB:
 * 3 chunks of 43, not 51 + 51 + 26). Throws when not even one dimension fits. */
export function poolDimChunk(d: number, storageBytes: number): number {
  const most = Math.floor((storageBytes - POOL_FIXED_BYTES) / POOL_BYTES_PER_DIM);
  if (most < 1) throw new RangeError(`pool: ${storageBytes} bytes of workgroup memory cannot hold the ${POOL_FIXED_BYTES + POOL_BYTES_PER_DIM} that the pooled-map kernel needs at least.`);
  const chunks = Math.ceil(d / most);
  return Math.ceil(d / chunks);
}

/** Cells smaller than this many tokens a side go to pool-pairs.wgsl (one pair at a time): the
 * tiled kernel stages 32 x 32 sub-tiles, which a cell of a few tokens (the exact zoom, block 1)
 * would mostly waste. */
export const POOL_TILED_MIN_BLOCK = 16;

/** `col` and `diagCum` are the (heads, S) u32 mask planes (mask-planes.ts). */
export function poolDispatch(ctx: GpuContext, s: AttentionShape, q: Tensor, k: Tensor, lse: Tensor, col: GPUBuffer, diagCum: GPUBuffer, req: PoolRequest, pooled: Tensor, scale = 1 / Math.sqrt(s.d)): Dispatch {
  checkAttentionShape('pool', s, q, k);
  const { rows, cols, block, viewport: v } = poolGrid(s.S, req.B, req.viewport);
  if (!Number.isInteger(req.headStart) || !Number.isInteger(req.headCount) || req.headStart < 0 || req.headCount < 1 || req.headStart + req.headCount > s.heads) {
    throw new RangeError(`pool: heads ${req.headStart} .. ${req.headStart + req.headCount - 1} are not within 0 .. ${s.heads - 1}.`);
  }
  const want = [req.headCount, 4, rows, cols];
  if (pooled.shape.join() !== want.join()) throw new RangeError(`pool: output has shape (${pooled.shape.join(', ')}); expected (${want.join(', ')}); make it with createPooled.`);
  return {
    kernel: block < POOL_TILED_MIN_BLOCK
      ? { label: 'pool maps (pairs)', code: `${cellWgsl}\n${pairsWgsl}`, constants: { D: s.d } }
      : { label: 'pool maps', code: `${cellWgsl}\n${poolWgsl}`, constants: { D: s.d, DC: poolDimChunk(s.d, ctx.device.limits.maxComputeWorkgroupStorageSize) } },
    buffers: [q.buffer, k.buffer, lse.buffer, col, diagCum, pooled.buffer],
    params: [u32(s.S), u32(rows), u32(cols), u32(block), u32(req.headStart), u32(s.heads / s.kvHeads), f32(scale), u32(v.r0), u32(v.r1), u32(v.c0), u32(v.c1), u32(0)],
    workgroups: [cols, rows, req.headCount],
  };
}
