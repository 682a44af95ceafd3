// Host wrapper of the f32 -> f16 conversion (convert.wgsl).
import type { GpuContext } from '../device';
import { ceilDiv, grid2d, u32, type Dispatch } from '../kernel';
import { createTensorF16, numel, shapeString, type Tensor } from '../tensor';
import type { TensorCoreMode } from './support';
import convertWgsl from './convert.wgsl';

/** y (f16) = x (f32), same element count. Needs shader-f16. */
export function toF16Dispatch(ctx: GpuContext, x: Tensor, y: Tensor): Dispatch {
  const n = numel(x.shape);
  if (numel(y.shape) !== n || y.dtype !== 'f16') throw new RangeError(`f32 -> f16: ${y.label} ${shapeString(y.shape)} must be an f16 tensor of ${n} values.`);
  const pairs = ceilDiv(n, 2);
  return {
    kernel: { label: 'f32 to f16', code: convertWgsl },
    buffers: [x.buffer, y.buffer],
    params: [u32(pairs), u32(n), u32(0), u32(0)],
    workgroups: grid2d(ctx, ceilDiv(pairs, 256)),
  };
}

/** f16 copies of an attention's K and V (V absent when the pass reads none) and, when asked, q,
 * with the passes that fill them: the tensor-core attention kernels read f16 as it is (one 16-byte
 * load per 8 dims), where f32 costs twice the bytes and a rounding in every tile of every
 * workgroup (H200, S 32768, d 64: dense 14.7 ms with f32 K / V, 10.0 with f16; docs/benchmarks.md).
 * q is read once per query block by the attention passes but once per key tile by stage 1's column
 * sums, which is where an f16 q pays. The caller frees the originals. */
export interface KvHalves {
  k: Tensor; // (kvHeads, S, d) f16
  v?: Tensor; // (kvHeads, S, d) f16
  q?: Tensor; // (heads, S, d) f16
  dispatches: Dispatch[];
}

export function kvHalves(ctx: GpuContext, k: Tensor, v?: Tensor, q?: Tensor): KvHalves {
  const half = (t: Tensor) => createTensorF16(ctx, `${t.label} f16`, t.shape); // same shape, f16
  const k16 = half(k), v16 = v && half(v), q16 = q && half(q);
  const pairs: [Tensor, Tensor | undefined][] = [[k, k16], [v!, v16], [q!, q16]];
  return { k: k16, v: v16, q: q16, dispatches: pairs.filter(([, y]) => y).map(([x, y]) => toF16Dispatch(ctx, x, y!)) };
}

/** kvHalves where the attention passes can read them: on tensor cores (tc set) at a head dimension
 * (k's last axis) that is a multiple of 8; otherwise undefined, and the passes read f32. */
export function kvHalvesFor(ctx: GpuContext, tc: TensorCoreMode | undefined, k: Tensor, v?: Tensor, q?: Tensor): KvHalves | undefined {
  return tc && k.shape[k.shape.length - 1] % 8 === 0 ? kvHalves(ctx, k, v, q) : undefined;
}
