// Random fill on the GPU (benchmarks only: values are uniform with the given std, not Gaussian).
import type { GpuContext } from '../device';
import { ceilDiv, f32, grid2d, u32, type Dispatch } from '../kernel';
import { numel, type Tensor } from '../tensor';
import fillWgsl from './fill.wgsl';

export function fillRandomDispatch(ctx: GpuContext, t: Tensor, seed: number, std: number, mean = 0): Dispatch {
  const n = numel(t.shape);
  return {
    kernel: { label: 'fill random', code: fillWgsl },
    buffers: [t.buffer],
    params: [u32(n), u32(seed >>> 0), f32(std), f32(mean)],
    workgroups: grid2d(ctx, ceilDiv(n, 256)),
  };
}
