// Host wrappers of the head split (with optional RoPE) and merge; see heads.wgsl.
import type { GpuContext } from '../device';
import { ceilDiv, grid2d, u32, type Dispatch } from '../kernel';
import { numel, shapeString, type Tensor } from '../tensor';
import headsWgsl from './heads.wgsl';

export interface RopeTables {
  /** (S, hd/2) f32 */
  cos: Tensor;
  /** (S, hd/2) f32 */
  sin: Tensor;
}

/** x (S, heads * hd) -> y (heads, S, hd), rotating with `rope` when given. */
export function splitHeadsDispatch(ctx: GpuContext, x: Tensor, y: Tensor, rope?: RopeTables): Dispatch {
  if (y.shape.length !== 3) throw new RangeError(`split heads: y ${y.label} ${shapeString(y.shape)} must be (heads, S, hd).`);
  const [heads, S, hd] = y.shape;
  if (numel(x.shape) !== heads * S * hd || x.shape[0] !== S) throw new RangeError(`split heads: x ${x.label} ${shapeString(x.shape)} must be (S, heads * hd) = (${S}, ${heads * hd}).`);
  if (rope) {
    if (hd % 2 !== 0) throw new RangeError(`RoPE: head dimension ${hd} must be even.`);
    for (const t of [rope.cos, rope.sin]) {
      if (t.shape[0] < S || t.shape[1] !== hd / 2) throw new RangeError(`RoPE table ${t.label} ${shapeString(t.shape)} must cover (S, hd/2) = (${S}, ${hd / 2}).`);
    }
  }
  return {
    kernel: { label: rope ? 'split heads + rope' : 'split heads', code: headsWgsl, entryPoint: 'split' },
    buffers: [x.buffer, y.buffer, (rope?.cos ?? x).buffer, (rope?.sin ?? x).buffer],
    params: [u32(S), u32(heads), u32(hd), u32(rope ? 1 : 0)],
    workgroups: grid2d(ctx, ceilDiv(heads * S * hd, 256)),
  };
}

/** x (heads, S, hd) -> y (S, heads * hd). */
export function mergeHeadsDispatch(ctx: GpuContext, x: Tensor, y: Tensor): Dispatch {
  if (x.shape.length !== 3) throw new RangeError(`merge heads: x ${x.label} ${shapeString(x.shape)} must be (heads, S, hd).`);
  const [heads, S, hd] = x.shape;
  if (numel(y.shape) !== heads * S * hd || y.shape[0] !== S) throw new RangeError(`merge heads: y ${y.label} ${shapeString(y.shape)} must be (S, heads * hd) = (${S}, ${heads * hd}).`);
  return {
    kernel: { label: 'merge heads', code: headsWgsl, entryPoint: 'merge' },
    // merge never reads the tables; x stands in for them.
    buffers: [x.buffer, y.buffer, x.buffer, x.buffer],
    params: [u32(S), u32(heads), u32(hd), u32(0)],
    workgroups: grid2d(ctx, ceilDiv(heads * S * hd, 256)),
  };
}
