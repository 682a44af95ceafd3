// Host wrapper of the f32 -> f16 conversion (convert.wgsl).
import type { GpuContext } from '../device';
import { ceilDiv, grid2d, u32, type Dispatch } from '../kernel';
import { numel, shapeString, type Tensor } from '../tensor';
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
