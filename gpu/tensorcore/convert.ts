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

/** f16 copies of an attention's K and V (V absent when the pass reads none) and the passes that
 * fill them: the tensor-core attention kernels read f16 K / V as they are (one 16-byte load per 8
 * dims), where f32 costs twice the bytes and a rounding in every tile of every workgroup (H200,
 * S 32768, d 64: 14.7 ms against about 9.8; docs/benchmarks.md). The caller frees k and v. */
export interface KvHalves {
  k: Tensor; // (kvHeads, S, d) f16
  v?: Tensor; // (kvHeads, S, d) f16
  dispatches: Dispatch[];
}

export function kvHalves(ctx: GpuContext, k: Tensor, v?: Tensor): KvHalves {
  const k16 = createTensorF16(ctx, `${k.label} f16`, k.shape); // (kvHeads, S, d) f16
  const v16 = v && createTensorF16(ctx, `${v.label} f16`, v.shape); // (kvHeads, S, d) f16
  return { k: k16, v: v16, dispatches: [toF16Dispatch(ctx, k, k16), ...(v && v16 ? [toF16Dispatch(ctx, v, v16)] : [])] };
}

/** kvHalves where the attention passes can read them: on tensor cores (tc set) at a head dimension
 * (k's last axis) that is a multiple of 8; otherwise undefined, and the passes read f32 k and v. */
export function kvHalvesFor(ctx: GpuContext, tc: TensorCoreMode | undefined, k: Tensor, v?: Tensor): KvHalves | undefined {
  return tc && k.shape[k.shape.length - 1] % 8 === 0 ? kvHalves(ctx, k, v) : undefined;
}
